import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { HARNESS_SERVICE_ENV } from '../harness/service-process.js'
import { productionNodeOptions } from './production-runtime.js'

/**
 * The service as production runs it (`node dist/server.js`, built by `npm run build`), on
 * loopback with the harness's secrets, so its memory is measured without tsx's compiler in it.
 */
const ROOT = new URL('..', import.meta.url).pathname
const START_TIMEOUT_MS = 60_000

export interface CompiledService {
  url: string
  pid: number | undefined
  stop(): Promise<void>
}

/** BENCH_PROFILE_DIR=dir: the service writes a CPU profile (`--cpu-prof`) there when it exits. */
export async function startCompiledService(env: Record<string, string>): Promise<CompiledService> {
  const profileDir = process.env.BENCH_PROFILE_DIR
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const child = spawn(process.execPath, [...profile, join(ROOT, 'dist/server.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: productionNodeOptions(),
      ...HARNESS_SERVICE_ENV,
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running when it never became ready.
      child.kill('SIGKILL')
      reject(new Error(`service did not start: ${output.slice(-2000)}`))
    }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`service exited with ${code}: ${output.slice(-2000)}`))
    })
  })
  // Keep draining the pipes: a full pipe would block the service's log writes.
  child.stdout?.resume()
  child.stderr?.resume()
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}
