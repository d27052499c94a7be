import { buildService } from './build.js'
import { measureDrain } from './drain.js'

/** `npx tsx bench/drain-cli.ts`: goal 4 alone, printed as JSON. */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
buildService()
console.log(JSON.stringify(await measureDrain(adminUrl), null, 2))
