import { buildService } from './build.js'
import { measureLatency } from './latency.js'

/**
 * `npx tsx bench/latency-cli.ts`: goals 2 and 3 alone, printed as JSON. BENCH_PROFILE_DIR=dir
 * writes a CPU profile of the service there (open it in Chrome DevTools).
 */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
buildService()
console.log(JSON.stringify(await measureLatency(adminUrl), null, 2))
