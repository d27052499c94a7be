import type { SandboxState } from '../harness/sandbox-process.js'
import type { PlannedContact } from './events.js'

/** Lost and duplicated records in the sandbox, compared with what the plan asked for. */
export interface Audit {
  lost: number
  duplicated: number
  /** A few concrete cases, for the report. */
  details: string[]
  /** Activities attached to a person other than their contact's. */
  misattached: number
}

const MAX_DETAILS = 8

/**
 * One person per contact email, one organization per name, one activity per CRM activity
 * (found by its unique subject), each activity on its contact's person.
 */
export function auditSandbox(state: SandboxState, plan: PlannedContact[]): Audit {
  const details: string[] = []
  const note = (text: string) => {
    if (details.length < MAX_DETAILS) details.push(text)
  }
  const personsByEmail = groupBy(
    state.persons.flatMap((person) =>
      person.emails.map((email) => [email.value.toLowerCase(), person] as const)
    )
  )
  const orgsByName = groupBy(state.organizations.map((org) => [org.name.toLowerCase(), org] as const))
  const activitiesBySubject = groupBy(
    state.activities.map((activity) => [activity.subject, activity] as const)
  )
  let lost = 0
  let duplicated = 0
  let misattached = 0
  const count = (what: string, found: number) => {
    if (found === 0) {
      lost++
      note(`lost: ${what}`)
    } else if (found > 1) {
      duplicated += found - 1
      note(`duplicated ×${found}: ${what}`)
    }
  }
  for (const name of new Set(plan.map((contact) => contact.organizationName.toLowerCase())))
    count(`organization ${name}`, orgsByName.get(name)?.length ?? 0)
  for (const contact of plan) {
    const persons = personsByEmail.get(contact.email) ?? []
    count(`person ${contact.email}`, persons.length)
    for (const activity of contact.activities) {
      const found = activitiesBySubject.get(activity.subject) ?? []
      count(`activity ${activity.id}`, found.length)
      for (const made of found) {
        if (persons.length === 1 && made.person_id !== persons[0]?.id) {
          misattached++
          note(`activity ${activity.id} on person ${made.person_id}, not ${persons[0]?.id}`)
        }
      }
    }
  }
  return { lost, duplicated, details, misattached }
}

/**
 * Per-contact order: each contact's activities were created in Pipedrive in the order they were
 * sent (the sandbox numbers records as it creates them). Returns the contacts out of order.
 */
export function outOfOrder(state: SandboxState, plan: PlannedContact[]): string[] {
  const idBySubject = new Map(state.activities.map((activity) => [activity.subject, activity.id]))
  const broken: string[] = []
  for (const contact of plan) {
    const ids = contact.activities.map((activity) => idBySubject.get(activity.subject) ?? -1)
    if (ids.some((id, index) => index > 0 && id < (ids[index - 1] ?? -1)))
      broken.push(`${contact.id}: ${ids.join(',')}`)
  }
  return broken
}

function groupBy<T>(pairs: Array<readonly [string, T]>): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const [key, value] of pairs) {
    const group = groups.get(key)
    if (group) group.push(value)
    else groups.set(key, [value])
  }
  return groups
}
