import type { Stack } from './stack.js'
import { industryOptions, type OperatorApi, storyRecords } from './story.js'
import { type Timeline, table } from './timeline.js'

/**
 * The final state of the sandbox as tables, then the one claim the service exists for: every CRM
 * record of the story maps to exactly one Pipedrive record, and Pipedrive holds nothing else.
 */
export async function report(stack: Stack, t: Timeline, operator: OperatorApi): Promise<void> {
  t.flush()
  const { store } = stack.sandbox
  const user = (id: number | null) => {
    const found = store.users.find((candidate) => candidate.id === id)
    return found ? `${found.id} ${found.name}` : String(id)
  }
  const labels = new Map((store.labelField().options ?? []).map((option) => [option.id, option.label]))
  const industries = new Map(industryOptions(stack).map((option) => [option.id, option.label]))
  const orgName = (id: number | null) => store.organizations.find((org) => org.id === id)?.name ?? String(id)
  const personName = (id: number | null) =>
    store.persons.find((person) => person.id === id)?.name ?? String(id)

  t.write('')
  t.write('What exists in the sandbox (fake Pipedrive) now')
  t.write('')
  t.write(' Organizations')
  for (const line of table(
    ['id', 'name', 'industry', 'country', 'owner'],
    store.organizations.map((org) => [
      String(org.id),
      org.name,
      org.industry === null ? '' : `${org.industry} ${industries.get(org.industry) ?? ''}`.trim(),
      org.address?.country ?? '',
      user(org.owner_id)
    ])
  ))
    t.write(line)
  t.write('')
  t.write(' Persons')
  for (const line of table(
    ['id', 'name', 'email', 'organization', 'labels', 'owner'],
    store.persons.map((person) => [
      String(person.id),
      person.name,
      person.emails.map((email) => email.value).join(', '),
      orgName(person.org_id),
      person.label_ids.map((id) => labels.get(id) ?? String(id)).join(', '),
      user(person.owner_id)
    ])
  ))
    t.write(line)
  t.write('')
  t.write(' Activities')
  for (const line of table(
    ['id', 'type', 'subject', 'due date', 'due time (UTC)', 'duration', 'person', 'owner'],
    store.activities.map((activity) => [
      String(activity.id),
      activity.type,
      activity.subject,
      activity.due_date ?? '',
      activity.due_time ?? '(all day)',
      activity.duration ?? '',
      personName(activity.person_id ?? activity.participants[0]?.person_id ?? null),
      user(activity.owner_id)
    ])
  ))
    t.write(line)
  t.write('')

  const problems: string[] = []
  const personIds = new Set<string>()
  const orgIds = new Set<string>()
  for (const contact of storyRecords.contacts) {
    const status = await operator.contact(contact.id)
    const persons = store.persons.filter((p) => p.emails.some((email) => email.value === contact.email))
    if (
      !status.pipedrivePersonId ||
      persons.length !== 1 ||
      String(persons[0]?.id) !== status.pipedrivePersonId
    )
      problems.push(
        `contact ${contact.id}: person ${status.pipedrivePersonId}, ${persons.length} with its email`
      )
    if (status.pipedrivePersonId) personIds.add(status.pipedrivePersonId)
    if (status.pipedriveOrgId) orgIds.add(status.pipedriveOrgId)
  }
  const activityIds = new Set<string>()
  let liveActivities = 0
  for (const id of storyRecords.activities) {
    const status = await operator.activity(id)
    const inPipedrive = store.activities.some((a) => String(a.id) === status.pipedriveActivityId)
    if (!status.pipedriveActivityId) problems.push(`activity ${id}: not replicated`)
    else if (status.state === 'deleted') {
      if (inPipedrive) problems.push(`activity ${id}: deleted in the CRM, still in Pipedrive`)
    } else {
      liveActivities++
      activityIds.add(status.pipedriveActivityId)
    }
  }
  const counts = (kind: string, target: string, crm: number, mapped: number, inPipedrive: number) => {
    if (mapped !== crm || inPipedrive !== crm)
      problems.push(
        `${crm} CRM ${kind}: ${mapped} distinct Pipedrive ids, ${inPipedrive} ${target} in Pipedrive`
      )
    return `${crm} ${kind} → ${inPipedrive} ${target}`
  }
  // Each contact of the story has its own organization.
  const summary = [
    counts('contacts', 'persons', storyRecords.contacts.length, personIds.size, store.persons.length),
    counts(
      'organizations',
      'organizations',
      storyRecords.contacts.length,
      orgIds.size,
      store.organizations.length
    ),
    counts('activities', 'activities', liveActivities, activityIds.size, store.activities.length)
  ].join(', ')
  t.check(
    problems.length === 0,
    `each CRM record maps to exactly one Pipedrive record (${summary})`,
    `mapping: ${problems.join('; ')}`
  )
  const bad = stack.crm.deliveries.filter((callback) => !callback.verified)
  t.check(
    bad.length === 0,
    `${stack.crm.deliveries.length} callbacks received, every signature verified`,
    `${bad.length} callbacks with a bad signature: ${bad.map((c) => c.problem).join('; ')}`
  )
}
