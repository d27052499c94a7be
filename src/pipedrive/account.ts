import { type Logger, silentLogger } from '../logger-interface.js'
import type { PipedriveClient } from './client.js'
import { type CreateCoordinator, UNCOORDINATED } from './create-coordinator.js'
import type { IndustryField } from './industry.js'
import type { ActivityType } from './schemas.js'
import { SingleFlight } from './single-flight.js'

/** Account metadata (fields, activity types) changes rarely; re-read it now and then anyway. */
const METADATA_TTL_MS = 60 * 60 * 1000

/**
 * One token's view of Pipedrive: what the domain steps (users.ts, organizations.ts, persons.ts,
 * person-label.ts, activities.ts) take as their first argument. Get one from
 * PipedriveConnection.forToken(); it is cheap and reused per token, so its caches are too.
 */
export class PipedriveAccount {
  readonly client: PipedriveClient
  readonly log: Logger
  /** Serialises the creates every token shares (labels) across tokens and instances. */
  readonly coordinator: CreateCoordinator
  /** Filled by the domain steps that read them, each keeping its own cache rules. */
  readonly cache = {
    /** Person label ids by lowercased name (personLabelId). */
    labelIds: new SingleFlight<string, number>(),
    /** Where the account keeps an organization's industry (createOrganization). */
    industryField: new SingleFlight<'industry', IndustryField | undefined>(METADATA_TTL_MS),
    /** The account's activity types (activityTypes). */
    activityTypes: new SingleFlight<'types', ActivityType[]>(METADATA_TTL_MS)
  }

  constructor(
    client: PipedriveClient,
    logger: Logger = silentLogger,
    coordinator: CreateCoordinator = UNCOORDINATED
  ) {
    this.client = client
    this.log = logger
    this.coordinator = coordinator
  }

  /** Forget cached label ids, fields and types (e.g. after a 400 naming a deleted label). */
  clearCaches(): void {
    for (const cache of Object.values(this.cache)) cache.clear()
  }
}
