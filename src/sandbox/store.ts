import type { GetOrganizationFields200ResponseDataInner as OfficialField } from 'pipedrive/v2'
import type { ActivityType, ContactDetail, FieldOption, FieldV1 } from '../pipedrive/schemas.js'
import {
  COMPANY,
  type CompanyOptions,
  CUSTOM_INDUSTRY_FIELD_CODE,
  CUSTOM_INDUSTRY_OPTIONS,
  defaultActivityTypes,
  defaultLabels,
  defaultUsers,
  type SandboxUser,
  STANDARD_INDUSTRY_OPTIONS
} from './company.js'

export interface StoredPerson {
  id: number
  name: string
  owner_id: number | null
  org_id: number | null
  label_ids: number[]
  emails: ContactDetail[]
  phones: ContactDetail[]
  visible_to: number
  custom_fields: Record<string, unknown>
  add_time: string
  update_time: string
}

export interface StoredOrganization {
  id: number
  name: string
  owner_id: number | null
  address: { value: string; country?: string } | null
  /** Option id of the standard `industry` field. */
  industry: number | null
  custom_fields: Record<string, unknown>
  visible_to: number
  add_time: string
  update_time: string
}

export interface StoredActivity {
  id: number
  subject: string
  type: string
  owner_id: number | null
  due_date: string | null
  due_time: string | null
  duration: string | null
  note: string | null
  done: boolean
  participants: Array<{ person_id: number; primary: boolean }>
  person_id: number | null
  org_id: number | null
  add_time: string
  update_time: string
}

export interface SandboxField extends FieldV1 {
  field_code: string
  field_name: string
  field_type: OfficialField['field_type']
}

type RecordKind = 'persons' | 'organizations' | 'activities'

/** Everything the fake account holds. Plain data: the state dump is this object. */
export class SandboxStore {
  readonly company = COMPANY
  options: Required<CompanyOptions> = {
    industryField: 'standard',
    labelOptionsViaV2: true,
    warmLeadLabel: true
  }
  users: SandboxUser[] = []
  personFields: SandboxField[] = []
  organizationFields: SandboxField[] = []
  activityTypes: ActivityType[] = []
  persons: StoredPerson[] = []
  organizations: StoredOrganization[] = []
  activities: StoredActivity[] = []
  /**
   * Deleted records, out of every list, search and look-up (Pipedrive deletes softly and purges
   * after 30 days): kept so a test or the dump can tell a record deleted from one never made.
   */
  deleted: { persons: StoredPerson[]; organizations: StoredOrganization[]; activities: StoredActivity[] } = {
    persons: [],
    organizations: [],
    activities: []
  }
  #nextId = { person: 1, organization: 1, activity: 1, option: 100 }

  constructor(options: CompanyOptions = {}) {
    this.reset(options)
  }

  reset(options: CompanyOptions = {}): void {
    this.options = {
      industryField: options.industryField ?? 'standard',
      labelOptionsViaV2: options.labelOptionsViaV2 ?? true,
      warmLeadLabel: options.warmLeadLabel ?? true
    }
    this.users = defaultUsers()
    this.personFields = [
      field(9040, 'name', 'Name', 'varchar'),
      field(9041, 'emails', 'Email', 'varchar'),
      field(9042, 'phones', 'Phone', 'phone'),
      field(9043, 'org_id', 'Organization', 'org'),
      field(9044, 'owner_id', 'Owner', 'user'),
      field(9051, 'label_ids', 'Labels', 'set', defaultLabels(this.options.warmLeadLabel))
    ]
    this.organizationFields = [
      field(4001, 'name', 'Name', 'varchar'),
      field(4002, 'address', 'Address', 'address'),
      field(4003, 'owner_id', 'Owner', 'user'),
      ...industryFields(this.options.industryField)
    ]
    this.activityTypes = defaultActivityTypes()
    this.persons = []
    this.organizations = []
    this.activities = []
    this.deleted = { persons: [], organizations: [], activities: [] }
    this.#nextId = { person: 1, organization: 1, activity: 1, option: 100 }
  }

  nextId(kind: 'person' | 'organization' | 'activity' | 'option'): number {
    const id = this.#nextId[kind]
    this.#nextId[kind] = id + 1
    return id
  }

  /** Moves the record to `deleted`; false when there is no such record (or it is deleted already). */
  softDelete(kind: RecordKind, id: number): boolean {
    const records: Array<{ id: number }> = this[kind]
    const index = records.findIndex((record) => record.id === id)
    if (index < 0) return false
    const deleted: Array<{ id: number }> = this.deleted[kind]
    deleted.push(...records.splice(index, 1))
    return true
  }

  userByToken(token: string | undefined): SandboxUser | undefined {
    return token ? this.users.find((user) => user.token === token && user.active_flag) : undefined
  }

  activeUser(id: number): SandboxUser | undefined {
    return this.users.find((user) => user.id === id && user.active_flag)
  }

  labelField(): SandboxField {
    return this.personFields.find((candidate) => candidate.key === 'label_ids') as SandboxField
  }

  /** The dump served by the control API (tokens included: it is a sandbox, never production). */
  dump() {
    return {
      company: this.company,
      options: this.options,
      users: this.users,
      personFields: this.personFields,
      organizationFields: this.organizationFields,
      activityTypes: this.activityTypes,
      persons: this.persons,
      organizations: this.organizations,
      activities: this.activities,
      deleted: this.deleted
    }
  }
}

function field(
  id: number,
  key: string,
  name: string,
  type: SandboxField['field_type'],
  options: FieldOption[] | null = null
): SandboxField {
  return {
    id,
    key,
    name,
    field_type: type,
    options: structuredClone(options),
    field_code: key,
    field_name: name
  }
}

/** Both the standard field and the custom one are named "Industry", as in Pipedrive. */
function industryFields(kind: Required<CompanyOptions>['industryField']): SandboxField[] {
  if (kind === 'standard') return [field(4004, 'industry', 'Industry', 'enum', STANDARD_INDUSTRY_OPTIONS)]
  if (kind === 'custom-text') return [field(4010, CUSTOM_INDUSTRY_FIELD_CODE, 'Industry', 'varchar')]
  if (kind === 'custom-enum')
    return [field(4010, CUSTOM_INDUSTRY_FIELD_CODE, 'Industry', 'enum', CUSTOM_INDUSTRY_OPTIONS)]
  return []
}

/** Custom fields have a 40-character hash as their code; standard ones a name (`industry`). */
export function isCustomField(field: SandboxField): boolean {
  return field.field_code.length === 40
}

export function asV2Field(field: SandboxField) {
  return {
    field_code: field.field_code,
    field_name: field.field_name,
    field_type: field.field_type,
    options: field.options ?? null,
    is_custom_field: isCustomField(field),
    is_optional_response_field: false
  } satisfies OfficialField
}

export function asV1Field(field: SandboxField): FieldV1 & Record<string, unknown> {
  return {
    id: field.id,
    key: field.key,
    name: field.name,
    field_type: field.field_type,
    options: field.options ?? null
  }
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}
