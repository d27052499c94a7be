import type { Logger } from '../logger-interface.js'
import { silentLogger } from '../logger-interface.js'
import { chooseActivityType, createActivity, type NewActivityInput } from './activities.js'
import { type ApiOptions, getPerson, listActivityTypes, listPersonActivities } from './api.js'
import type { PipedriveClient } from './client.js'
import { type CreateCoordinator, UNCOORDINATED } from './create-coordinator.js'
import type { CreateOptions } from './create-once.js'
import { findIndustryField, type IndustryField } from './industry.js'
import { createOrganization, findOrganizationByName, type NewOrganizationInput } from './organizations.js'
import { resolvePersonLabel } from './person-label.js'
import { addLabelToPerson, createPerson, findPersonByEmail, type NewPersonInput } from './persons.js'
import type { Activity, ActivityType, Person, User } from './schemas.js'
import { SingleFlight } from './single-flight.js'
import { findUserByEmail } from './users.js'

/** Account metadata (fields, activity types) changes rarely; re-read it now and then anyway. */
const METADATA_TTL_MS = 60 * 60 * 1000

/**
 * The domain operations for one token, with that account's caches. Get one from
 * PipedriveConnection.forToken(); it is cheap and reused per token.
 */
export class PipedriveAccount {
  readonly client: PipedriveClient
  readonly #log: Logger
  readonly #coordinator: CreateCoordinator
  readonly #labels = new SingleFlight<string, number>()
  readonly #industryField = new SingleFlight<'industry', IndustryField | undefined>(METADATA_TTL_MS)
  readonly #activityTypes = new SingleFlight<'types', ActivityType[]>(METADATA_TTL_MS)

  constructor(
    client: PipedriveClient,
    logger: Logger = silentLogger,
    coordinator: CreateCoordinator = UNCOORDINATED
  ) {
    this.client = client
    this.#log = logger
    this.#coordinator = coordinator
  }

  /** Active user with exactly this email (the caller caches the id). */
  findUserByEmail(email: string, options?: ApiOptions): Promise<User | undefined> {
    return findUserByEmail(this.client, email, options)
  }

  /** Id of the person label (e.g. WARM_LEAD_LABEL), created once if missing (see the coordinator); cached. */
  labelId(name: string): Promise<number> {
    return this.#labels.get(name.trim().toLowerCase(), () =>
      resolvePersonLabel(this.client, name.trim(), this.#log, this.#coordinator)
    )
  }

  findOrganizationByName(name: string, options?: ApiOptions) {
    return findOrganizationByName(this.client, name, options)
  }

  async createOrganization(input: NewOrganizationInput, options?: CreateOptions) {
    const field = input.industry
      ? await this.#industryField.get('industry', () => findIndustryField(this.client))
      : undefined
    const result = await createOrganization(this.client, input, field, options)
    for (const warning of result.warnings) this.#log.warn({ pipedriveToken: this.client.key }, warning)
    return result
  }

  findPersonByEmail(email: string, options?: ApiOptions) {
    return findPersonByEmail(this.client, email, options)
  }

  getPerson(id: number, options?: ApiOptions): Promise<Person> {
    return getPerson(this.client, id, options)
  }

  createPerson(input: NewPersonInput, options?: CreateOptions) {
    return createPerson(this.client, input, options)
  }

  addLabelToPerson(personId: number, labelId: number, options?: ApiOptions) {
    return addLabelToPerson(this.client, personId, labelId, options)
  }

  /** The account's activity types (cached). */
  activityTypes(): Promise<ActivityType[]> {
    return this.#activityTypes.get('types', () => listActivityTypes(this.client))
  }

  /** The type to send for a mapped key: best effort (the mapped key when the list is unreadable). */
  async chooseActivityType(key: string): Promise<{ type: string; warning?: string }> {
    let types: ActivityType[] | undefined
    try {
      types = await this.activityTypes()
    } catch (error) {
      this.#log.warn(
        { pipedriveToken: this.client.key, err: (error as Error).message },
        'activity types unreadable'
      )
    }
    return chooseActivityType(types, key)
  }

  createActivity(input: NewActivityInput, options?: CreateOptions) {
    return createActivity(this.client, input, options)
  }

  listPersonActivities(personId: number, options?: ApiOptions): Promise<Activity[]> {
    return listPersonActivities(this.client, personId, options)
  }

  /** Forget cached label ids, fields and types (e.g. after a 400 naming a deleted label). */
  clearCaches(): void {
    this.#labels.clear()
    this.#industryField.clear()
    this.#activityTypes.clear()
  }
}
