/**
 * `npm run demo`: the service in this process on a throw-away PGlite, the built-in Pipedrive
 * sandbox and a fake CRM, all on 127.0.0.1; a scripted story over real HTTP, printed as a
 * timeline; exit 0 when every step happened as expected, else 1 with what did not.
 */
import { report } from './report.js'
import { type Stack, startStack } from './stack.js'
import { OperatorApi, playStory } from './story.js'
import { DemoFailure, Timeline } from './timeline.js'

// Bounds the whole run even if a close hangs: each wait is ≤ 20 s, the story about a minute.
const WATCHDOG_MS = 180_000
const STOP_MS = 20_000

const startedAt = Date.now()
const timeline = new Timeline()
let stack: Stack | undefined

const watchdog = setTimeout(() => {
  process.stderr.write(`demo: still running after ${WATCHDOG_MS / 1000} s, giving up\n`)
  process.exit(1)
}, WATCHDOG_MS)
watchdog.unref()

async function stop(): Promise<void> {
  if (!stack) return
  await Promise.race([stack.stop(), new Promise((resolve) => setTimeout(resolve, STOP_MS).unref())])
}

// Ctrl-C still removes the temporary data directory.
process.once('SIGINT', () => {
  void stop().finally(() => process.exit(130))
})

try {
  stack = await startStack()
  timeline.watch(stack.sandbox, stack.crm.deliveries)
  timeline.write('pipedrive-sync demo — everything on 127.0.0.1, nothing reaches the internet')
  timeline.write(`  service  ${stack.serviceUrl}  (in this process; PGlite in ${stack.dataDir})`)
  timeline.write(`  sandbox  ${stack.sandbox.url}  (the built-in fake Pipedrive)`)
  timeline.write(`  CRM      ${stack.crm.url}  (receives callbacks, checks their signatures)`)
  timeline.write(
    `  started in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; the clock below starts with the story`
  )
  timeline.restart()
  await playStory(stack, timeline)
  await report(stack, timeline, new OperatorApi(stack.serviceUrl, stack.operatorKey))
} catch (error) {
  const message = error instanceof DemoFailure ? error.message : `unexpected error: ${(error as Error).stack}`
  timeline.check(false, message)
}

const seconds = ((Date.now() - startedAt) / 1000).toFixed(1)
await stop()
timeline.write('')
if (timeline.failures.length === 0) {
  timeline.write(`✓ the story went as expected (${seconds} s)`)
  process.exit(0)
}
timeline.write(`✗ the story did not go as expected (${seconds} s):`)
for (const failure of timeline.failures) timeline.write(`  - ${failure}`)
process.exit(1)
