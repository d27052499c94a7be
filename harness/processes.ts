import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A child process of ours with its captured output (for readiness, and for log audits). */
export interface Child {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL: the crash case. */
  kill(): Promise<number | null>
}

const ROOT = new URL('..', import.meta.url).pathname

export function spawnTs(script: string, env: Record<string, string | undefined>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}${script}`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name)
    return exited
  }
  return { child, output: () => output, exited, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') }
}

/** Resolves with the first match of `pattern` in the child's output, or fails after `timeoutMs`. */
export async function waitForOutput(
  child: Child,
  pattern: RegExp,
  timeoutMs = 60_000
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const match = pattern.exec(child.output())
    if (match) return match
    if (child.child.exitCode !== null) throw new Error(`process exited before ${pattern}:\n${child.output()}`)
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${pattern}:\n${child.output().slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A loopback port free right now (the OS picks it), for processes that need their port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
