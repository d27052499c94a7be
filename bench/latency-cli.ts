import { measureLatency } from './latency.js'

/**
 * `npx tsx bench/latency-cli.ts`: goals 2 and 3 alone, printed as JSON. BENCH_PROFILE_DIR=dir
 * writes a CPU profile of the service there (open it in Chrome DevTools).
 */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const profileDir = process.env.BENCH_PROFILE_DIR
const preload = new URL('./cpu-profile.ts', import.meta.url).pathname
const serviceEnv: Record<string, string> = profileDir
  ? { NODE_OPTIONS: `--import tsx --import ${preload}`, BENCH_PROFILE_DIR: profileDir }
  : {}
console.log(JSON.stringify(await measureLatency(adminUrl, serviceEnv), null, 2))
