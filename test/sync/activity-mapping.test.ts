import t from 'tap'
import { CRM_ACTIVITY_TYPES } from '../../src/schemas/webhook-events.js'
import { ACTIVITY_TYPE_MAP, mapActivityType } from '../../src/sync/activity-mapping.js'

t.test('the type map for all six CRM types', async (t) => {
  t.same(ACTIVITY_TYPE_MAP, {
    CALL: 'call',
    EMAIL: 'email',
    MEETING: 'meeting',
    LINKEDIN: 'task',
    REFERRAL: 'task',
    CONFERENCE: 'meeting'
  })
  for (const type of CRM_ACTIVITY_TYPES) t.same(mapActivityType(type), { key: ACTIVITY_TYPE_MAP[type] })
})

t.test('a stored type outside the six becomes a task with a warning', async (t) => {
  t.same(mapActivityType('WEBINAR'), {
    key: 'task',
    warning: 'unknown CRM activity type "WEBINAR"; used "task"'
  })
})
