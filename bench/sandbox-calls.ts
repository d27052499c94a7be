import type { LoggedRequest } from '../src/sandbox/request-log.js'

export interface RecordCalls {
  calls: LoggedRequest[]
  /** Sum of the sandbox-side durations (arrival to answer) of the record's calls, ms. */
  pipedriveMs: number
}

/**
 * Attributes each Pipedrive request in the sandbox log to the record whose token (a contact or
 * activity id, unique and never a substring of another) appears in its query or body: search
 * terms, names, emails and subjects all carry it. Requests naming no record (the user list, the
 * label and activity-type look-ups that fill the caches) are returned as `shared`.
 */
export function attributeCalls(requests: readonly LoggedRequest[], tokens: readonly string[]) {
  const byRecord = new Map<string, RecordCalls>(tokens.map((token) => [token, { calls: [], pipedriveMs: 0 }]))
  const shared: LoggedRequest[] = []
  for (const request of requests) {
    const haystack = JSON.stringify([request.query, request.body])
    const token = tokens.find((candidate) => haystack.includes(candidate))
    const record = token === undefined ? undefined : byRecord.get(token)
    if (!record) {
      shared.push(request)
      continue
    }
    record.calls.push(request)
    record.pipedriveMs += request.durationMs ?? 0
  }
  return { byRecord, shared }
}
