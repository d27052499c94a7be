import type { Audit } from './audit.js'
import type { ScenarioResult } from './result.js'
import type { Tally } from './send.js'
import type { Stack } from './stack.js'

/** Every delivery got a 2xx and no answer was a 5xx. */
export function checkIntake(result: ScenarioResult, tally: Tally, events: number): void {
  tally.into(result)
  if (tally.c5xx > 0) result.failures.push(`${tally.c5xx} answers were 5xx: ${tally.samples.join(' | ')}`)
  if (tally.accepted.size !== events)
    result.failures.push(
      `${events - tally.accepted.size} of ${events} deliveries never got a 2xx: ${tally.samples.join(' | ')}`
    )
}

/** 0 lost, 0 duplicated, activities on the right person, every job finished (none dead, none stuck). */
export async function checkRecords(
  result: ScenarioResult,
  stack: Stack,
  audit: Audit & { settled: boolean }
): Promise<Record<string, number>> {
  result.lost += audit.lost
  result.duplicated += audit.duplicated
  if (!audit.settled) result.failures.push('did not settle in time')
  if (audit.lost > 0 || audit.duplicated > 0)
    result.failures.push(`lost ${audit.lost}, duplicated ${audit.duplicated}: ${audit.details.join('; ')}`)
  if (audit.misattached > 0) result.failures.push(`${audit.misattached} activities on the wrong person`)
  const jobs = await stack.probe.jobStates()
  // A replayed job is finished too: history of a dead job an operator ran again (as a new job).
  const notDone = Object.entries(jobs).filter(([state]) => state !== 'done' && state !== 'replayed')
  if (notDone.length > 0) result.failures.push(`jobs not done: ${JSON.stringify(jobs)}`)
  if (stack.callbacks.unverified > 0)
    result.failures.push(`${stack.callbacks.unverified} callbacks failed signature verification`)
  return jobs
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now()
  const value = await work()
  return { value, ms: performance.now() - start }
}
