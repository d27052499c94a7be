import type { ApiOptions } from './api.js'
import type { AttemptHook, PipedriveClient } from './client.js'
import { isAmbiguous, PipedriveAmbiguousCreateError, PipedriveCreateUnconfirmedError } from './errors.js'

export interface CreateOptions {
  /**
   * The record may already exist because an earlier round's create failed ambiguously: look
   * before the first send. Callers set it from their own state (e.g. attempts already made).
   */
  mayExist?: boolean
  /** Sees every create request sent (in-line retries and refused connections included). */
  onAttempt?: AttemptHook
  signal?: AbortSignal
}

export interface CreateOnceSteps<T> {
  /** For messages: "person", "organization"… */
  what: string
  create: (options: ApiOptions) => Promise<T>
  /** Finds the record a lost create may have made; absent when there is no key to look by. */
  lookup: ((options: ApiOptions) => Promise<T | undefined>) | undefined
  /**
   * False: when the look-up finds nothing after an ambiguous attempt, fail with
   * PipedriveCreateUnconfirmedError instead of sending the create again at once (the record may
   * exist but not be searchable yet). Default true.
   */
  createAgainAfterMiss?: boolean
}

export interface CreateOnceResult<T> {
  value: T
  /** False when the look-up found the record (an earlier create did reach Pipedrive). */
  created: boolean
}

/**
 * Creates with in-line retries but never twice: once a create may have reached Pipedrive
 * (timeout or reset after sending, 5xx), every further attempt first looks for the record
 * and returns it when found. Without a look-up key, an ambiguous create is not sent again.
 * Creates are sent without the client's own retries so this loop alone decides.
 */
export function createOnce<T>(
  client: PipedriveClient,
  steps: CreateOnceSteps<T>,
  options: CreateOptions = {}
): Promise<CreateOnceResult<T>> {
  let mayExist = options.mayExist ?? false
  let ambiguity: unknown
  const signal = options.signal
  return client.retrying(async () => {
    if (mayExist) {
      if (!steps.lookup) throw new PipedriveAmbiguousCreateError(steps.what)
      const found = await steps.lookup({ once: true, ...(signal ? { signal } : {}) })
      if (found !== undefined) return { value: found, created: false }
      if (steps.createAgainAfterMiss === false) {
        throw new PipedriveCreateUnconfirmedError(steps.what, { cause: ambiguity })
      }
    }
    try {
      const value = await steps.create({
        once: true,
        ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
        ...(signal ? { signal } : {})
      })
      return { value, created: true }
    } catch (error) {
      if (isAmbiguous(error)) {
        mayExist = true
        ambiguity = error
      }
      throw error
    }
  }, signal)
}
