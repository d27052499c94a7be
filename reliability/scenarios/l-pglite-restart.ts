import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from '../../harness/eventually.js'
import { spawnTs } from '../../harness/processes.js'
import {
  HARNESS_OPERATOR_KEY,
  HARNESS_SERVICE_ENV,
  type ServiceProcess,
  startServiceProcess
} from '../../harness/service-process.js'
import { contactEvent, type Delivery } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, Tally } from '../send.js'
import type { Suite } from '../suite.js'

const KILLS = 3
const SENDERS = 4
// Events keep arriving for this long before each kill: the kill lands among commits.
const SENDING_BEFORE_KILL_MS = 1_500
const READY_TIMEOUT_MS = 60_000
const COLD_SCORE = 1

/**
 * (l) The embedded database: the service on PGlite (no DATABASE_URL, its own DATA_DIR) is killed
 * with SIGKILL while events arrive and restarted at once, three times in a row, its pid file
 * naming a live process each time (pid 1, as in a container). Each restart reaches /health/ready
 * (the dead holder's lock is taken over once stale) and every event answered 2xx before a kill is
 * still there. Then a second process on the same directory, while the service lives, is refused.
 */
export async function pgliteRestart(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult(`l. PGlite: SIGKILL + immediate restart ×${KILLS}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-sync-l-'))
  // Cold contacts: stored and settled without Pipedrive (the built-in sandbox is not under test).
  const env = { DATA_DIR: dataDir, OPERATOR_RATE_LIMIT: '100000', LOG_LEVEL: 'debug' }
  const tally = new Tally()
  const contactOf = new Map<string, string>()
  let started = 0
  const start = async (): Promise<ServiceProcess> => {
    const service = await startServiceProcess(env, READY_TIMEOUT_MS)
    suite.addServiceLog(`l #${++started}`, service.process)
    await eventually(
      async () => (await fetch(`${service.url}/health/ready`).catch(() => undefined))?.status === 200,
      READY_TIMEOUT_MS,
      { what: '/health/ready', intervalMs: 50 }
    )
    return service
  }
  let service: ServiceProcess | undefined
  const begin = performance.now()
  try {
    service = await start()
    const restartMs: number[] = []
    const openMs: number[] = []
    let next = 0
    for (let kill = 1; kill <= KILLS; kill++) {
      const live = service
      let sending = true
      const senders = Array.from({ length: SENDERS }, async () => {
        while (sending) {
          const id = `l-c${next++}`
          const delivery: Delivery = contactEvent(id, {
            organization: { id: `l-o${id}`, name: `L Org ${id}` },
            score: COLD_SCORE
          })
          contactOf.set(delivery.webhookId, id)
          await deliver(() => live.url, delivery, tally)
        }
      })
      await new Promise((resolve) => setTimeout(resolve, SENDING_BEFORE_KILL_MS))
      // Senders stop starting requests; the ones in flight meet the kill.
      sending = false
      const killedAt = performance.now()
      const killedAtEpochMs = Date.now()
      await live.kill()
      // In a container the crashed service was pid 1, and pid 1 is alive again after the restart:
      // the holder's pid names a live process that is not the holder.
      writeFileSync(join(dataDir, 'pglite.pid'), '1')
      await Promise.all(senders)
      service = await start()
      restartMs.push(performance.now() - killedAt)
      openMs.push(loggedAt(service, 'database ready') - killedAtEpochMs)
      const missing = await missingContacts(service.url, acceptedContacts(tally, contactOf))
      if (missing.length > 0) {
        result.lost += missing.length
        result.failures.push(
          `after kill ${kill}: ${missing.length} accepted events gone (${missing.slice(0, 5)})`
        )
      }
    }
    const refusal = await secondProcess(env)
    if (!refusal.refused)
      result.failures.push(`a second process on the live DATA_DIR was not refused: ${refusal.output}`)

    result.elapsedMs = performance.now() - begin
    tally.into(result)
    result.events = tally.accepted.size
    if (tally.c5xx > 0) result.failures.push(`${tally.c5xx} answers were 5xx: ${tally.samples.join(' | ')}`)
    if (tally.accepted.size === 0) result.failures.push('no event was accepted: nothing was tested')
    const seconds = (values: number[]) => values.map((ms) => `${(ms / 1000).toFixed(1)}`).join(' / ')
    result.other =
      `SIGKILL → database open ${seconds(openMs)} s, → /health/ready ${seconds(restartMs)} s; ` +
      `second live process refused in ${(refusal.ms / 1000).toFixed(1)} s`
    return result
  } finally {
    await service?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** When the service logged `message` (pino's epoch milliseconds). */
function loggedAt(service: ServiceProcess, message: string): number {
  for (const line of service.process.output().split('\n')) {
    if (!line.includes(`"msg":"${message}"`)) continue
    return (JSON.parse(line) as { time: number }).time
  }
  return Number.NaN
}

/** Contact ids whose event got a 2xx. */
function acceptedContacts(tally: Tally, contactOf: Map<string, string>): string[] {
  return [...tally.accepted].map((webhookId) => contactOf.get(webhookId)).filter((id) => id !== undefined)
}

async function missingContacts(baseUrl: string, ids: string[]): Promise<string[]> {
  const missing: string[] = []
  for (const id of ids) {
    const response = await fetch(`${baseUrl}/api/contacts/${id}/sync-status`, {
      headers: { authorization: `Bearer ${HARNESS_OPERATOR_KEY}` }
    })
    await response.arrayBuffer()
    if (response.status !== 200) missing.push(id)
  }
  return missing
}

/** A second service on the same DATA_DIR, started while the first lives: it must exit, refused. */
async function secondProcess(
  env: Record<string, string>
): Promise<{ refused: boolean; ms: number; output: string }> {
  const startedAt = performance.now()
  const child = spawnTs('src/server.ts', { ...HARNESS_SERVICE_ENV, ...env })
  const code = await child.exited
  const output = child.output()
  return {
    refused: code !== 0 && /DATA_DIR .* is in use by process \d+/.test(output),
    ms: performance.now() - startedAt,
    output: output.slice(-500)
  }
}
