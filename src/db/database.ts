import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { type SQL, sql } from 'drizzle-orm'
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { lockDataDir } from './data-dir-lock.js'
import { preparingEveryStatement } from './preparing-client.js'
import * as schema from './schema.js'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>
/** What a function that only reads and writes needs: the database or an open transaction. */
export type Executor = Pick<Database, '_' | 'execute' | 'select' | 'insert' | 'update' | 'delete'>

export interface DatabaseHandle {
  db: Database
  /**
   * For the rate budget's bookkeeping only: commits here do not wait for the disk (PostgreSQL's
   * synchronous_commit off), which took a WAL flush — milliseconds — out of every Pipedrive call.
   * A PostgreSQL crash can forget the last fraction of a second of slot updates: at worst a few
   * requests too many, which Pipedrive answers with 429 and the client's pause absorbs. Every other
   * write waits for the disk. PGlite: the same database.
   */
  bookkeeping: Database
  kind: 'postgres' | 'pglite'
  migrate(): Promise<void>
  /** True when every migration in `drizzle/` has been applied. */
  migrationsApplied(): Promise<boolean>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** PostgreSQL URL; without it an embedded PGlite is used. */
  url?: string | undefined
  /** PGlite files; without it PGlite keeps everything in memory (tests). */
  dataDir?: string | undefined
  /** PostgreSQL schema for tables and migration records (tests isolate themselves this way). */
  schemaName?: string | undefined
  maxConnections?: number
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))
// Arbitrary constant: serialises migrations of several instances starting at once.
const MIGRATION_LOCK_ID = 724_911_301

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, options) : openPglite(options)
}

/**
 * int8 columns (Pipedrive ids, counts) as JavaScript numbers, as PGlite returns them: every value
 * the service stores there is at most 2^53 − 1 (the event schemas refuse larger ids).
 */
const INT8_AS_NUMBER = {
  int8: { to: 20, from: [20], serialize: (value: number | bigint) => String(value), parse: Number }
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const schemaName = options.schemaName
  const migrationsSchema = schemaName ?? 'drizzle'
  const connection = schemaName ? { search_path: schemaName } : {}
  const client = postgres(url, {
    // More connections than this slow the intake down on a small machine (measured: 0.52× vs 0.65×
    // of the minimal receiver at 20); the worker's jobs wait their turn for a connection.
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    types: INT8_AS_NUMBER,
    connection
  })
  const db = drizzlePostgres(preparingEveryStatement(client), { schema }) as unknown as Database
  const bookkeepingClient = postgres(url, {
    // The budget runs one take and one release statement at a time per token, and rarely a pause.
    max: 3,
    onnotice: () => {},
    types: INT8_AS_NUMBER,
    connection: { ...connection, synchronous_commit: 'off' }
  })
  return {
    db,
    bookkeeping: drizzlePostgres(preparingEveryStatement(bookkeepingClient), {
      schema
    }) as unknown as Database,
    kind: 'postgres',
    async migrate() {
      const single = postgres(url, { max: 1, onnotice: () => {}, connection })
      try {
        await single`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
        if (schemaName)
          await single.unsafe(`create schema if not exists "${schemaName.replaceAll('"', '""')}"`)
        await migratePostgres(drizzlePostgres(single), {
          migrationsFolder: MIGRATIONS_FOLDER,
          migrationsSchema
        })
        await single`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`
      } finally {
        await single.end()
      }
    },
    migrationsApplied: () => migrationsApplied(db, migrationsSchema),
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), bookkeepingClient.end({ timeout: 5 })])
    }
  }
}

/**
 * Another process took the data directory over (this one looked dead to it): every further write
 * of ours could corrupt it, a graceful close included.
 */
function stopAtOnce(reason: string): never {
  process.stderr.write(`pipedrive-sync stops: the lock on DATA_DIR was lost (${reason})\n`)
  process.exit(1)
}

async function openPglite(options: DatabaseOptions): Promise<DatabaseHandle> {
  let client: PGlite
  let unlock = async () => {}
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true })
    unlock = await lockDataDir(options.dataDir, { onLost: stopAtOnce })
    try {
      client = await PGlite.create(join(options.dataDir, 'pglite'))
    } catch (error) {
      await unlock()
      throw error
    }
  } else {
    client = await PGlite.create()
  }
  const db = drizzlePglite(client, { schema }) as unknown as Database
  return {
    db,
    bookkeeping: db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER })
    },
    migrationsApplied: () => migrationsApplied(db, 'drizzle'),
    close: async () => {
      await client.close()
      await unlock()
    }
  }
}

function latestMigrationMillis(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ when: number }>
  }
  return Math.max(0, ...journal.entries.map((entry) => entry.when))
}

// PostgreSQL's undefined_table and invalid_schema_name: nothing was ever migrated here.
const NEVER_MIGRATED_CODES = new Set(['42P01', '3F000'])

/** False while a migration is missing; a database that cannot answer is an error, not "missing". */
async function migrationsApplied(db: Database, migrationsSchema: string): Promise<boolean> {
  const expected = latestMigrationMillis()
  try {
    const [row] = await rows<{ latest: string | null }>(
      db,
      sql`select max(created_at)::text as latest from ${sql.identifier(migrationsSchema)}.__drizzle_migrations`
    )
    return row?.latest != null && Number(row.latest) >= expected
  } catch (error) {
    if (NEVER_MIGRATED_CODES.has(String(postgresCode(error)))) return false
    throw error
  }
}

/** The SQLSTATE of a driver error (drizzle wraps it in `cause`). */
function postgresCode(error: unknown): unknown {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  }
  return undefined
}

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[]
  return ((result as { rows?: T[] }).rows ?? []) as T[]
}

/** Runs a raw statement and returns its rows, whichever driver answers (postgres.js: array; PGlite: {rows}). */
export async function rows<T>(executor: Pick<Database, 'execute'>, query: SQL): Promise<T[]> {
  return rowsOf<T>(await executor.execute(query))
}

const dialect = new PgDialect()

/**
 * A hot statement compiled once: `query` uses `sql.placeholder(name)` for its values, and each
 * call only fills them in. Prepared, so PostgreSQL plans it once per connection; compiled once,
 * so drizzle does not rebuild its text on every call (both cost the intake more than running it).
 */
export function preparedStatement<T>(
  name: string,
  query: SQL
): (executor: Pick<Database, '_'>, values: Record<string, unknown>) => Promise<T[]> {
  const compiled = dialect.sqlToQuery(query)
  return async (executor, values) =>
    rowsOf<T>(await executor._.session.prepareQuery(compiled, undefined, name, false).execute(values))
}
