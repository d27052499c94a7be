import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DataDirInUseError, lockDataDir } from '../../src/db/data-dir-lock.js'

t.test('one process per PGlite data directory; a dead holder is taken over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // pid 1 is always alive: another process holds the directory.
  writeFileSync(join(dir, 'pglite.pid'), '1')
  t.throws(() => lockDataDir(dir), DataDirInUseError)
  // A pid that cannot exist: its holder died.
  writeFileSync(join(dir, 'pglite.pid'), '2147483646')
  const unlock = lockDataDir(dir)
  t.throws(
    () => lockDataDir(join(dir)),
    { message: /in use by process/ },
    'held by us now, refused to a second opener'
  )
  unlock()
  const again = lockDataDir(dir)
  again()
  t.pass('free again after unlock')
})
