import t from 'tap'
import { attributeCalls, describeCalls, type SandboxRecords } from '../../bench/sandbox-calls.js'
import type { LoggedRequest } from '../../src/sandbox/request-log.js'

const LEAD = 'cRun-L0001'
const ACTIVITY = 'aRun-A0002'

let seq = 0
function call(method: string, path: string, extra: Partial<LoggedRequest> = {}): LoggedRequest {
  seq += 1
  return {
    seq,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    method,
    path,
    query: {},
    userId: 1,
    body: null,
    status: 200,
    durationMs: 10,
    ...extra
  }
}

// Person 7 existed before the run (found by its email, then labelled); person 8 belongs to no record.
const records: SandboxRecords = {
  persons: [
    {
      id: 7,
      name: 'Someone else',
      emails: [{ value: `${LEAD}@bench.example` }],
      label_ids: [],
      owner_id: null,
      org_id: null
    },
    { id: 8, name: 'Not ours', emails: [], label_ids: [], owner_id: null, org_id: null }
  ],
  organizations: [{ id: 3, name: `Org ${LEAD}` }],
  activities: [
    {
      id: 11,
      subject: `Call ${ACTIVITY}`,
      type: 'call',
      due_date: null,
      due_time: null,
      person_id: 7
    }
  ]
}

t.test('a found person labelled by id and a shared look-up are both counted', async (t) => {
  const search = call('GET', '/api/v2/persons/search', { query: { term: `${LEAD}@bench.example` } })
  const read = call('GET', '/api/v2/persons/7')
  const patch = call('PATCH', '/api/v2/persons/7', { body: { label_ids: [5] }, durationMs: 25 })
  const lookup = call('GET', '/api/v2/personFields', { query: { limit: '500' } })
  const requests = [search, read, patch, lookup]
  const { byRecord, unattributed } = attributeCalls(requests, [LEAD, ACTIVITY], records)
  t.same(
    byRecord.get(LEAD)?.calls.map((request) => request.seq),
    [search.seq, read.seq, patch.seq]
  )
  t.equal(byRecord.get(LEAD)?.pipedriveMs, 45)
  t.same(
    unattributed.map((request) => request.seq),
    [lookup.seq]
  )
  t.equal(describeCalls(unattributed), 'GET /api/v2/personFields ×1')
})

t.test(
  'ids in the body or query lead to their record; the record named by a token comes first',
  async (t) => {
    const activity = call('POST', '/api/v2/activities', {
      body: { subject: `Call ${ACTIVITY}`, person_id: 7 }
    })
    const lookup = call('GET', '/api/v2/activities', { query: { person_id: '7', limit: '500' } })
    const organization = call('PATCH', '/api/v2/organizations/3', { body: { owner_id: 2 } })
    const personOfOrg = call('POST', '/api/v2/persons', { body: { name: 'x', org_id: 3 } })
    const activityById = call('GET', '/api/v2/activities/11')
    const { byRecord, unattributed } = attributeCalls(
      [activity, lookup, organization, personOfOrg, activityById],
      [LEAD, ACTIVITY],
      records
    )
    t.same(
      byRecord.get(ACTIVITY)?.calls.map((request) => request.seq),
      [activity.seq, activityById.seq]
    )
    t.same(
      byRecord.get(LEAD)?.calls.map((request) => request.seq),
      [lookup.seq, organization.seq, personOfOrg.seq]
    )
    t.same(unattributed, [])
  }
)

t.test('every request lands in exactly one place: a record or unattributed', async (t) => {
  const requests = [
    call('PATCH', '/api/v2/persons/8', { body: { label_ids: [5] } }),
    call('PATCH', '/api/v2/persons/99'),
    call('GET', '/api/v1/users/find', { query: { term: 'owner@crm.example', search_by_email: '1' } }),
    call('GET', '/api/v1/users/find', { query: { term: 'owner@crm.example', search_by_email: '1' } }),
    call('GET', '/api/v1/activityTypes'),
    call('POST', '/api/v2/persons', { body: { name: `Bench ${LEAD}` } })
  ]
  const { byRecord, unattributed } = attributeCalls(requests, [LEAD, ACTIVITY], records)
  const attributed = [...byRecord.values()].flatMap((record) => record.calls)
  t.equal(attributed.length + unattributed.length, requests.length)
  t.same(
    [...attributed, ...unattributed].map((request) => request.seq).sort((a, b) => a - b),
    requests.map((request) => request.seq)
  )
  t.equal(
    describeCalls(unattributed),
    'PATCH /api/v2/persons/:id ×2, GET /api/v1/users/find ×2, GET /api/v1/activityTypes ×1'
  )
  t.equal(describeCalls([]), 'none')
})
