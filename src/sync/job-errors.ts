import { DeferJobError, PermanentJobError } from '../jobs/worker.js'
import {
  PipedriveAmbiguousCreateError,
  PipedriveError,
  PipedriveRatePausedError
} from '../pipedrive/errors.js'

/**
 * A 4xx other than 429 cannot be fixed by retrying, and a create whose outcome cannot be checked
 * must not be sent again blindly: both end the job at once (dead, visible, retryable by an
 * operator). A token paused for long gives the job back until the pause ends (not a failure).
 * Everything else is left to the queue's backoff.
 */
export function toJobError(error: unknown): unknown {
  if (error instanceof PipedriveRatePausedError) return new DeferJobError(error.message, error.waitMs)
  if (error instanceof PipedriveError && !error.retryable) return new PermanentJobError(error.message)
  if (error instanceof PipedriveAmbiguousCreateError) return new PermanentJobError(error.message)
  return error
}
