/**
 * Polls `check` until it returns a truthy value, and returns that value; fails after `timeoutMs`
 * with `what` it waited for. The one polling helper of the tests, the reliability suite and the benches.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  { what = 'the condition', intervalMs = 20 }: { what?: string; intervalMs?: number } = {}
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
