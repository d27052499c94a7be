/**
 * The part of a pino (or Fastify) logger the service's modules use, so either can be passed in;
 * how log lines are configured is src/logger.ts.
 */
export type LogFn = (object: Record<string, unknown>, message?: string) => void

export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

const ignore: LogFn = () => {}
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore }
