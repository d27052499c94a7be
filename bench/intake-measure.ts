import { type BenchServer, type LoadResult, load, startServer } from './load.js'
import { peakRssMb } from './rss.js'

/**
 * The service's intake against a minimal durable receiver (HMAC + one INSERT): same load, same
 * run, same PostgreSQL, each server in its own process with the worker off (intake alone).
 */
export const INTAKE_CONNECTIONS = 50
const WARMUP_SECONDS = 2

export interface IntakeMeasurement {
  minimal: LoadResult
  service: LoadResult
  /** Service throughput over the minimal receiver's, same run. */
  ratio: number
  /** Peak RSS of the service process over its whole life (start, warm-up, load). */
  servicePeakRssMb: number
}

async function measure(server: BenchServer, databaseUrl: string, durationSeconds: number) {
  const running = await startServer(server, {
    DATABASE_URL: databaseUrl,
    PIPEDRIVE_API_TOKEN: 'bench',
    PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9'
  })
  try {
    await load(running.url, { connections: INTAKE_CONNECTIONS, durationSeconds: WARMUP_SECONDS })
    const result = await load(running.url, { connections: INTAKE_CONNECTIONS, durationSeconds })
    return { result, peakRssMb: peakRssMb(running.child.pid) }
  } finally {
    await running.stop()
  }
}

export async function measureIntake(
  databaseUrl: string,
  durationSeconds: number
): Promise<IntakeMeasurement> {
  const minimal = await measure('minimal', databaseUrl, durationSeconds)
  const service = await measure('service', databaseUrl, durationSeconds)
  return {
    minimal: minimal.result,
    service: service.result,
    ratio: service.result.requestsPerSecond / minimal.result.requestsPerSecond,
    servicePeakRssMb: service.peakRssMb
  }
}
