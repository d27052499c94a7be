import { Writable } from 'node:stream'
import { pino } from 'pino'
import { loggerOptions } from '../src/logger.js'

/**
 * A logger configured as the service's (redaction, serializers) whose output a test reads: every
 * line as written, and parsed.
 */
export function captureLog() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    }
  })
  return {
    lines,
    records: () => lines.map((line) => JSON.parse(line) as { msg: string } & Record<string, unknown>),
    logger: pino(loggerOptions('info'), stream)
  }
}
