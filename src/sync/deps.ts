import type { Config } from '../config.js'
import type { Database } from '../db/database.js'
import type { JobLease } from '../jobs/job-lease.js'
import type { Logger } from '../logger-interface.js'
import type { PipedriveConnection } from '../pipedrive/connection.js'

/** What the sync orchestrators need from the running service; tests pass their own. */
export interface SyncDeps {
  db: Database
  config: Config
  pipedrive: PipedriveConnection
  log: Logger
  /** Wakes the job worker after work was enqueued outside the intake. */
  notify: () => void
}

/** The job round an orchestrator runs in: it stops on `signal`, and its writes need `lease`. */
export interface JobRun {
  signal: AbortSignal
  lease: JobLease
}
