import type { Sql } from 'postgres'

/**
 * drizzle asks postgres.js to prepare a statement only when it is given a name (it passes
 * `prepare: false` to `unsafe` otherwise), so every other statement is parsed and planned again on
 * each call (measured: ~0.5 ms of a ~0.7 ms round trip per statement on this service's hot path).
 * Our statement texts form a small set (only list lengths vary, bounded by a page or a batch), so
 * all of them are prepared: postgres.js keeps one prepared statement per text and connection.
 *
 * This wraps the postgres.js client drizzle is given, through postgres.js's public API only:
 * `unsafe` (how drizzle runs every statement) always prepares, and the clients `begin` and
 * `savepoint` hand to their callbacks (drizzle's transactions) are wrapped the same way.
 * test/db/prepared-statements.test.ts checks the effect in `pg_prepared_statements`.
 */
export function preparingEveryStatement<Client extends Pick<Sql, 'unsafe'>>(client: Client): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      const call = value as (...args: unknown[]) => unknown
      if (property === 'unsafe')
        return (text: string, params?: unknown[], options?: Record<string, unknown>) =>
          call(text, params, { ...options, prepare: true })
      if (property === 'begin' || property === 'savepoint')
        return (...args: unknown[]) =>
          call(
            ...args.map((arg) =>
              typeof arg === 'function'
                ? (transaction: Client) => arg(preparingEveryStatement(transaction))
                : arg
            )
          )
      return value
    }
  })
}
