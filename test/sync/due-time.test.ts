import t from 'tap'
import { InvalidDueAtError, pipedriveDue, pipedriveDuration } from '../../src/sync/due-time.js'

t.test('an offset east of UTC moves the time back', async (t) => {
  t.same(pipedriveDue('2026-11-26T15:30:00+01:00'), { dueDate: '2026-11-26', dueTime: '14:30' })
  t.same(pipedriveDue('2026-11-26T15:30:00+05:45'), { dueDate: '2026-11-26', dueTime: '09:45' })
  t.same(pipedriveDue('2026-11-26T15:30:00+14:00'), { dueDate: '2026-11-26', dueTime: '01:30' })
})

t.test('an offset west of UTC moves the time forward', async (t) => {
  t.same(pipedriveDue('2026-11-26T09:15:00-05:00'), { dueDate: '2026-11-26', dueTime: '14:15' })
  t.same(pipedriveDue('2026-11-26T09:15:00-03:30'), { dueDate: '2026-11-26', dueTime: '12:45' })
})

t.test('UTC stays as it is, in every spelling the intake accepts', async (t) => {
  t.same(pipedriveDue('2026-11-26T15:30:00Z'), { dueDate: '2026-11-26', dueTime: '15:30' })
  t.same(pipedriveDue('2026-11-26t15:30:00z'), { dueDate: '2026-11-26', dueTime: '15:30' })
  t.same(pipedriveDue('2026-11-26 15:30:00+00:00'), { dueDate: '2026-11-26', dueTime: '15:30' })
  t.same(pipedriveDue('2026-11-26T15:30:00-00:00'), { dueDate: '2026-11-26', dueTime: '15:30' })
  t.same(pipedriveDue('2026-11-26T15:30:00.999999+00:00'), { dueDate: '2026-11-26', dueTime: '15:30' })
})

t.test('the UTC date changes when the time crosses midnight', async (t) => {
  t.same(pipedriveDue('2026-11-26T23:30:00-05:00'), { dueDate: '2026-11-27', dueTime: '04:30' })
  t.same(pipedriveDue('2026-11-27T00:30:00+09:00'), { dueDate: '2026-11-26', dueTime: '15:30' })
  t.same(pipedriveDue('2027-01-01T00:15:00+01:00'), { dueDate: '2026-12-31', dueTime: '23:15' })
  t.same(pipedriveDue('2026-12-31T20:00:00-10:00'), { dueDate: '2027-01-01', dueTime: '06:00' })
  t.same(pipedriveDue('2028-02-28T23:00:00-02:00'), { dueDate: '2028-02-29', dueTime: '01:00' }, 'leap year')
  t.same(pipedriveDue('2027-02-28T23:00:00-02:00'), { dueDate: '2027-03-01', dueTime: '01:00' })
  t.same(pipedriveDue('2026-03-01T01:00:00+02:00'), { dueDate: '2026-02-28', dueTime: '23:00' })
})

t.test('DST change days: the offset the CRM sends decides, not a zone database', async (t) => {
  // Europe/Berlin springs forward on 2026-03-29 (02:00 +01:00 → 03:00 +02:00).
  t.same(pipedriveDue('2026-03-29T01:30:00+01:00'), { dueDate: '2026-03-29', dueTime: '00:30' })
  t.same(pipedriveDue('2026-03-29T03:30:00+02:00'), { dueDate: '2026-03-29', dueTime: '01:30' })
  // New York falls back on 2026-11-01: 01:30 happens twice, the offset tells them apart.
  t.same(pipedriveDue('2026-11-01T01:30:00-04:00'), { dueDate: '2026-11-01', dueTime: '05:30' })
  t.same(pipedriveDue('2026-11-01T01:30:00-05:00'), { dueDate: '2026-11-01', dueTime: '06:30' })
  // Sydney falls back on 2026-04-05 (03:00 +11:00 → 02:00 +10:00): the UTC date is the day before.
  t.same(pipedriveDue('2026-04-05T02:30:00+11:00'), { dueDate: '2026-04-04', dueTime: '15:30' })
  t.same(pipedriveDue('2026-04-05T02:30:00+10:00'), { dueDate: '2026-04-04', dueTime: '16:30' })
})

t.test('seconds are dropped, never rounded into the next minute or day', async (t) => {
  t.same(pipedriveDue('2026-11-26T23:59:59Z'), { dueDate: '2026-11-26', dueTime: '23:59' })
  t.same(pipedriveDue('2026-12-31T23:59:60Z'), { dueDate: '2027-01-01', dueTime: '00:00' }, 'a leap second')
})

t.test('a date alone is sent as a date, unshifted and without a time', async (t) => {
  t.same(pipedriveDue('2026-11-26'), { dueDate: '2026-11-26' })
  t.same(pipedriveDue('2026-03-29'), { dueDate: '2026-03-29' })
  t.same(pipedriveDue(null), {})
})

t.test('anything else is refused with a typed error', async (t) => {
  t.throws(() => pipedriveDue('2026-11-26T15:30:00'), InvalidDueAtError, 'no offset')
  t.throws(() => pipedriveDue('tomorrow'), InvalidDueAtError)
})

t.test('durations are HH:MM, hours not capped at a day', async (t) => {
  t.equal(pipedriveDuration(null), undefined)
  t.equal(pipedriveDuration(0), '00:00')
  t.equal(pipedriveDuration(5), '00:05')
  t.equal(pipedriveDuration(30), '00:30')
  t.equal(pipedriveDuration(60), '01:00')
  t.equal(pipedriveDuration(90), '01:30')
  t.equal(pipedriveDuration(1439), '23:59')
  t.equal(pipedriveDuration(1440), '24:00')
  t.equal(pipedriveDuration(2880), '48:00')
  t.equal(pipedriveDuration(6005), '100:05')
})
