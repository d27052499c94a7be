/**
 * `npm run test:reliability`: the black-box reliability suite (docs/reliability.md). Real service
 * processes on a real PostgreSQL (DATABASE_URL, default the local `test` database, used as the
 * admin URL: each scenario creates and drops its own database), the Pipedrive sandbox as its own
 * process, a signed-callback receiver here. Prints one table; exits 1 if any guarantee broke.
 * `npm run test:reliability -- a c` runs only the named scenarios (the log audit g always runs).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emptyResult, formatTable, type ScenarioResult } from './result.js'
import { redeliveries } from './scenarios/a-redeliveries.js'
import { parallelContact } from './scenarios/b-parallel-contact.js'
import { sigkill } from './scenarios/c-sigkill.js'
import { sandboxDown } from './scenarios/d-sandbox-down.js'
import { rateLimitStorm } from './scenarios/e-429-storm.js'
import { forgedRequests } from './scenarios/f-forged-requests.js'
import { logSecrets } from './scenarios/g-log-secrets.js'
import { twoInstances } from './scenarios/h-two-instances.js'
import { operatorRetry } from './scenarios/i-operator-retry.js'
import { sigkillPersonCreate } from './scenarios/j-sigkill-person-create.js'
import { shutdown } from './scenarios/k-shutdown.js'
import { pgliteRestart } from './scenarios/l-pglite-restart.js'
import { Suite } from './suite.js'

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const SCENARIOS: Array<[string, (suite: Suite) => Promise<ScenarioResult>]> = [
  ['a', redeliveries],
  ['b', parallelContact],
  ['c', sigkill],
  ['d', sandboxDown],
  ['e', rateLimitStorm],
  ['f', forgedRequests],
  ['h', twoInstances],
  ['j', sigkillPersonCreate],
  ['k', shutdown],
  ['l', pgliteRestart],
  ['i', operatorRetry],
  // Last: it audits the logs of every process the others started.
  ['g', logSecrets]
]

const only = process.argv.slice(2)
const suite = new Suite(ADMIN_URL)
const results: ScenarioResult[] = []
const suiteStart = performance.now()
for (const [key, scenario] of SCENARIOS) {
  if (only.length > 0 && !only.includes(key) && key !== 'g') continue
  const start = performance.now()
  process.stdout.write(`scenario ${key}: running…\n`)
  try {
    results.push(await scenario(suite))
  } catch (error) {
    results.push({
      ...emptyResult(key),
      elapsedMs: performance.now() - start,
      failures: [`crashed: ${error instanceof Error ? error.stack : String(error)}`]
    })
  }
  const last = results.at(-1)
  process.stdout.write(
    `scenario ${key}: ${last?.failures.length ? `FAIL\n  - ${last.failures.join('\n  - ')}` : 'pass'} (${((performance.now() - start) / 1000).toFixed(1)} s)\n`
  )
}
suite.close()

// Evidence for whoever reads a failure: every service process's whole output.
const logDir = join(tmpdir(), `pipedrive-sync-reliability-${process.pid}`)
mkdirSync(logDir, { recursive: true })
for (const { label, process: child } of suite.serviceLogs)
  writeFileSync(join(logDir, `${label.replaceAll(/[^\w-]+/g, '_')}.log`), child.output())

console.log(`\n${formatTable(results)}\n`)
const failed = results.filter((result) => result.failures.length > 0)
console.log(
  `${results.length - failed.length} passed, ${failed.length} failed, ${((performance.now() - suiteStart) / 1000).toFixed(0)} s in all; service logs in ${logDir}`
)
process.exit(failed.length > 0 ? 1 : 0)
