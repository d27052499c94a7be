import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

/**
 * Preload (`--import`) that CPU-profiles the process and writes `<pid>.cpuprofile` into
 * BENCH_PROFILE_DIR at exit. Node 20 refuses `--cpu-prof` in NODE_OPTIONS, and the harness
 * spawns the service itself, so this is how a benchmark profiles it.
 */
const dir = process.env.BENCH_PROFILE_DIR
if (dir) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.start')
  // The in-thread session answers synchronously, so this finishes inside the exit handler.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(result.profile))
    })
  })
}
