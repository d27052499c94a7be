import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DataDirInUseError, LOCK_STALE_MS, lockDataDir } from '../../src/db/data-dir-lock.js'

function dataDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** What a holder killed by SIGKILL leaves behind: its lock, last refreshed `ageMs` ago, and its pid. */
function crashedHolder(dir: string, pid: number, ageMs: number): void {
  mkdirSync(join(dir, 'pglite.lock'))
  const refreshed = new Date(Date.now() - ageMs)
  utimesSync(join(dir, 'pglite.lock'), refreshed, refreshed)
  writeFileSync(join(dir, 'pglite.pid'), String(pid))
}

for (const [who, pid] of [
  ['pid 1 (a container restarted after a crash)', 1],
  ['our own pid (an unrelated process reused it)', process.pid]
] as const) {
  t.test(`a stale lock naming ${who} is taken over at once`, async (t) => {
    const dir = dataDir(t)
    crashedHolder(dir, pid, 60_000)
    const start = performance.now()
    const release = await lockDataDir(dir)
    t.ok(performance.now() - start < LOCK_STALE_MS - 1_000, 'no waiting for a lock that is long stale')
    await release()
  })
}

t.test('a pid file left by an older version (no lock directory) does not block the start', async (t) => {
  const dir = dataDir(t)
  writeFileSync(join(dir, 'pglite.pid'), '1')
  const release = await lockDataDir(dir)
  await release()
})

t.test('a crash a moment ago: the restart waits until the lock is stale, then starts', async (t) => {
  const dir = dataDir(t)
  crashedHolder(dir, 1, 1_000)
  const start = performance.now()
  const release = await lockDataDir(dir)
  const waited = performance.now() - start
  t.ok(waited >= LOCK_STALE_MS - 1_000 - 300, `waited ${Math.round(waited)} ms for the lock to go stale`)
  t.ok(waited < LOCK_STALE_MS + 2_000, 'and not much longer')
  await release()
})

t.test('a live holder: a second opener is refused with the reason; free again after release', async (t) => {
  const dir = dataDir(t)
  const release = await lockDataDir(dir)
  await t.rejects(lockDataDir(dir, { waitMs: 1_000 }), DataDirInUseError)
  await t.rejects(lockDataDir(dir, { waitMs: 1_000 }), {
    message: new RegExp(
      `DATA_DIR .* is in use by process ${process.pid}: the embedded database allows one process`
    )
  })
  await release()
  t.notOk(existsSync(join(dir, 'pglite.lock')), 'the lock is removed on release')
  const again = await lockDataDir(dir, { waitMs: 1_000 })
  await again()
})

t.test('a holder whose main thread is blocked longer than the stale time keeps its lock', async (t) => {
  // PGlite blocks the main thread for seconds (creating a data directory): the holder is alive.
  const dir = dataDir(t)
  const release = await lockDataDir(dir)
  t.teardown(release)
  let lost = false
  const second = lockDataDir(dir, { waitMs: LOCK_STALE_MS + 2_000 }).then(
    async (releaseSecond) => {
      lost = true
      await releaseSecond()
    },
    (error: unknown) => error
  )
  // Let the second opener's thread start before this thread stops answering.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const until = Date.now() + LOCK_STALE_MS + 1_500
  while (Date.now() < until) {
    // busy: nothing on this thread runs, as during PGlite's initdb
  }
  t.type(await second, DataDirInUseError, 'the second opener is refused')
  t.notOk(lost, 'the lock was never taken over')
})
