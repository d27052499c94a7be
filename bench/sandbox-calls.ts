import type { SandboxState } from '../harness/sandbox-process.js'
import type { LoggedRequest } from '../src/sandbox/request-log.js'

export interface RecordCalls {
  calls: LoggedRequest[]
  /** Sum of the sandbox-side durations (arrival to answer) of the record's calls, ms. */
  pipedriveMs: number
}

/** What the sandbox holds at the end of a run: how a Pipedrive id leads back to its record. */
export type SandboxRecords = Pick<SandboxState, 'persons' | 'organizations' | 'activities'>

export interface Attribution {
  byRecord: Map<string, RecordCalls>
  /** Calls that served no record of the run (cache-filling look-ups, or calls nobody asked for). */
  unattributed: LoggedRequest[]
}

// A call on one Pipedrive record: GET/PATCH /api/v2/persons/:id and the like.
const RECORD_PATH = /^\/api\/v\d+\/(persons|organizations|activities)\/(\d+)(?:\/|$)/
type Kind = 'persons' | 'organizations' | 'activities'

/**
 * Attributes every Pipedrive request in the sandbox log to the record it served, or to none. A
 * record is named by a token (a contact or activity id, unique and never a substring of
 * another) that its searches, names, emails and subjects carry; a request naming no token is
 * traced through the Pipedrive id it names (path, `person_id`, `org_id`) to the sandbox record
 * whose name, email or subject carries one — so `PATCH /persons/:id` (a label added to a found
 * person) counts for its contact. The rest is `unattributed`: every request lands in exactly one
 * of the two, so a caller can count each against a goal.
 */
export function attributeCalls(
  requests: readonly LoggedRequest[],
  tokens: readonly string[],
  records: SandboxRecords
): Attribution {
  const byRecord = new Map<string, RecordCalls>(tokens.map((token) => [token, { calls: [], pipedriveMs: 0 }]))
  const tokenIn = (value: unknown) => {
    const haystack = JSON.stringify(value)
    return tokens.find((candidate) => haystack.includes(candidate))
  }
  const owners: Record<Kind, Map<number, string>> = {
    persons: idsToTokens(records.persons, (person) => tokenIn([person.name, person.emails])),
    organizations: idsToTokens(records.organizations, (organization) => tokenIn(organization.name)),
    activities: idsToTokens(records.activities, (activity) => tokenIn(activity.subject))
  }
  const unattributed: LoggedRequest[] = []
  for (const request of requests) {
    const token = tokenIn([request.path, request.query, request.body]) ?? tokenById(request, owners)
    const record = token === undefined ? undefined : byRecord.get(token)
    if (!record) {
      unattributed.push(request)
      continue
    }
    record.calls.push(request)
    record.pipedriveMs += request.durationMs ?? 0
  }
  return { byRecord, unattributed }
}

/** "GET /api/v2/personFields ×2, PATCH /api/v2/persons/:id ×1": what a list of calls was, for a report. */
export function describeCalls(requests: readonly LoggedRequest[]): string {
  const counts = new Map<string, number>()
  for (const request of requests) {
    const key = `${request.method} ${request.path.replace(/\/\d+(?=\/|$)/g, '/:id')}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([call, count]) => `${call} ×${count}`).join(', ') || 'none'
}

function idsToTokens<T extends { id: number }>(
  items: readonly T[],
  tokenOf: (item: T) => string | undefined
): Map<number, string> {
  const owners = new Map<number, string>()
  for (const item of items) {
    const token = tokenOf(item)
    if (token !== undefined) owners.set(item.id, token)
  }
  return owners
}

function tokenById(request: LoggedRequest, owners: Record<Kind, Map<number, string>>): string | undefined {
  const onRecord = RECORD_PATH.exec(request.path)
  if (onRecord) return owners[onRecord[1] as Kind].get(Number(onRecord[2]))
  const fields = { ...request.query, ...(isObject(request.body) ? request.body : {}) }
  return owners.persons.get(Number(fields.person_id)) ?? owners.organizations.get(Number(fields.org_id))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
