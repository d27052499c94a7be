import { execFile, execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { symlink } from 'node:fs/promises'
import { promisify } from 'node:util'

/**
 * The bench servers (bench/servers) and the source they import, compiled to plain JavaScript in
 * `.bench-build/` (tsconfig.bench.json), so every receiver runs as production does: `node file.js`,
 * without the TypeScript loader, which adds its own thread and memory to a process.
 */
const ROOT = new URL('..', import.meta.url).pathname
export const BENCH_BUILD_DIR = `${ROOT}.bench-build`

let built: Promise<void> | undefined

/** Compiles once per benchmark process. */
export function buildBenchServers(): Promise<void> {
  built ??= (async () => {
    await promisify(execFile)(
      process.execPath,
      [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.bench.json'],
      {
        cwd: ROOT
      }
    )
    // Compiled src/ finds the migrations and package.json where it would in the repository.
    for (const file of ['drizzle', 'package.json'])
      await symlink(`../${file}`, `${BENCH_BUILD_DIR}/${file}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error
      })
  })()
  return built
}

/** `npm run build`: the service as production runs it (`node dist/server.js`). */
export function buildService(): void {
  console.log('building dist/ (npm run build) …')
  const startedMs = Date.now()
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit', cwd: ROOT })
  } catch (error) {
    // tsc still emits on type errors (a tree mid-edit); only a build that wrote nothing stops us.
    if (statSync(`${ROOT}dist/server.js`).mtimeMs < startedMs) throw error
    console.warn('warning: the build reported type errors; measuring the JavaScript it emitted')
  }
}
