import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError'
}

/**
 * A holder refreshes its lock every UPDATE_MS; a lock older than STALE_MS belongs to a process
 * that died and is taken over. The refresh runs on its own thread: PGlite blocks the main thread
 * for seconds (≈ 6 s creating a new data directory on 2 cores), which would otherwise make a live
 * holder look dead.
 */
export const LOCK_STALE_MS = 4_000
const LOCK_UPDATE_MS = 1_000
const RETRY_INTERVAL_MS = 250
/** A restart right after a crash waits for the dead holder's lock to go stale, then some margin. */
const DEFAULT_WAIT_MS = LOCK_STALE_MS + 2 * LOCK_UPDATE_MS

export interface LockOptions {
  /** How long to wait for a held lock before refusing (at least until a dead holder's lock is stale). */
  waitMs?: number
  /** The lock was lost while held (its directory removed, or taken over): the data is no longer ours. */
  onLost?: (reason: string) => void
}

type ThreadMessage =
  | { kind: 'locked' }
  | { kind: 'released' }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'lost'; message: string }

// CommonJS, evaluated in a worker thread: it runs unchanged under tsx and from dist/.
const LOCK_THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const lockfile = require(workerData.library)
const { target, lockPath, staleMs, updateMs, retries, retryMs } = workerData
lockfile
  .lock(target, {
    lockfilePath: lockPath,
    realpath: false,
    stale: staleMs,
    update: updateMs,
    retries: { retries, factor: 1, minTimeout: retryMs, maxTimeout: retryMs },
    onCompromised: (error) => parentPort.postMessage({ kind: 'lost', message: error.message })
  })
  .then(
    (release) => {
      parentPort.postMessage({ kind: 'locked' })
      parentPort.once('message', () => {
        const done = () => parentPort.postMessage({ kind: 'released' })
        release().then(done, done)
      })
    },
    (error) => parentPort.postMessage({ kind: 'refused', code: String(error.code), message: error.message })
  )
`

function holderPid(path: string): string | undefined {
  try {
    const pid = readFileSync(path, 'utf8').trim()
    return /^\d+$/.test(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * PGlite has no locking of its own: two processes on one data directory corrupt it. The lock is
 * `pglite.lock` (proper-lockfile: an atomic mkdir whose mtime the holder keeps fresh), so a crashed
 * holder is recognised by its stale lock — never by its pid, which a container restart or an
 * unrelated process reuses. `pglite.pid` only names the holder in the refusal message.
 * Resolves with the function that releases the lock.
 */
export async function lockDataDir(dataDir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const pidPath = join(dataDir, 'pglite.pid')
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS
  const thread = new Worker(LOCK_THREAD, {
    eval: true,
    workerData: {
      library: createRequire(import.meta.url).resolve('proper-lockfile'),
      target: dataDir,
      lockPath: join(dataDir, 'pglite.lock'),
      staleMs: LOCK_STALE_MS,
      updateMs: LOCK_UPDATE_MS,
      retries: Math.ceil(waitMs / RETRY_INTERVAL_MS),
      retryMs: RETRY_INTERVAL_MS
    }
  })
  const first = await new Promise<ThreadMessage>((resolve, reject) => {
    thread.once('message', resolve)
    thread.once('error', reject)
  })
  if (first.kind !== 'locked') {
    await thread.terminate()
    if (first.kind === 'refused' && first.code === 'ELOCKED') {
      const pid = holderPid(pidPath)
      throw new DataDirInUseError(
        `DATA_DIR ${dataDir} is in use by ${pid ? `process ${pid}` : 'another process'}: the embedded database allows one process (set DATABASE_URL for several)`
      )
    }
    throw new Error(`cannot lock DATA_DIR ${dataDir}: ${'message' in first ? first.message : first.kind}`)
  }
  writeFileSync(pidPath, String(process.pid))
  let released = false
  thread.on('message', (message: ThreadMessage) => {
    if (message.kind === 'lost' && !released) options.onLost?.(message.message)
  })
  thread.on('error', (error) => {
    if (!released) options.onLost?.(error.message)
  })
  // A held lock must not keep a finished process alive: unreleased, it goes stale like a crash's.
  thread.unref()
  return async () => {
    if (released) return
    released = true
    rmSync(pidPath, { force: true })
    const done = new Promise<void>((resolve) => {
      thread.on('message', (message: ThreadMessage) => {
        if (message.kind === 'released') resolve()
      })
      thread.once('exit', () => resolve())
    })
    thread.ref()
    thread.postMessage('release')
    await done
    await thread.terminate()
  }
}
