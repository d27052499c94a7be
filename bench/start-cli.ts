import { buildService } from './build.js'
import { measureStart } from './start-time.js'

/** `npx tsx bench/start-cli.ts`: goal 5's start times alone, as JSON. */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
buildService()
console.log(JSON.stringify(await measureStart(adminUrl), null, 2))
