import { type LoadResult, load, pooled, type RawLoad, startServer } from './load.js'
import { peakRssMb } from './rss.js'

/**
 * The service's intake against a minimal durable receiver (HMAC + one INSERT): same load, same
 * PostgreSQL, each server in its own process with the worker off (intake alone). The two take
 * turns in short rounds, so a slower or faster spell of this shared machine falls on both alike
 * instead of on whichever ran second (one long run each gave ratios from 0.5 to 0.75 for the same
 * code).
 */
export const INTAKE_CONNECTIONS = 50
const WARMUP_SECONDS = 2
const ROUNDS = 5

export interface IntakeMeasurement {
  minimal: LoadResult
  service: LoadResult
  /** Service requests over the minimal receiver's, all rounds together. */
  ratio: number
  /** Each round's ratio, for the spread. */
  roundRatios: number[]
  /** Peak RSS of the service process over its whole life (start, warm-up, load). */
  servicePeakRssMb: number
}

/** `durationSeconds` of load for each server, split into rounds. */
export async function measureIntake(
  databaseUrl: string,
  durationSeconds: number
): Promise<IntakeMeasurement> {
  const env = {
    DATABASE_URL: databaseUrl,
    PIPEDRIVE_API_TOKEN: 'bench',
    PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9'
  }
  const minimal = await startServer('minimal', env)
  try {
    const service = await startServer('service', env)
    try {
      const options = { connections: INTAKE_CONNECTIONS, durationSeconds: WARMUP_SECONDS }
      await load(minimal.url, options)
      await load(service.url, options)
      const roundSeconds = Math.max(1, Math.round(durationSeconds / ROUNDS))
      const rounds: Array<{ minimal: RawLoad; service: RawLoad }> = []
      for (let round = 0; round < ROUNDS; round++) {
        const options = { connections: INTAKE_CONNECTIONS, durationSeconds: roundSeconds }
        rounds.push({ minimal: await load(minimal.url, options), service: await load(service.url, options) })
      }
      const minimalTotal = pooled(rounds.map((round) => round.minimal))
      const serviceTotal = pooled(rounds.map((round) => round.service))
      return {
        minimal: minimalTotal,
        service: serviceTotal,
        ratio: serviceTotal.requestsPerSecond / minimalTotal.requestsPerSecond,
        roundRatios: rounds.map(
          (round) => pooled([round.service]).requestsPerSecond / pooled([round.minimal]).requestsPerSecond
        ),
        servicePeakRssMb: peakRssMb(service.child.pid)
      }
    } finally {
      await service.stop()
    }
  } finally {
    await minimal.stop()
  }
}
