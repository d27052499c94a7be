import {
  type ApiOptions,
  createOrganization as createOrganizationCall,
  listOrganizationFields,
  searchOrganizations
} from './api.js'
import type { PipedriveClient } from './client.js'
import { type CreateOptions, createOnce } from './create-once.js'
import { sameText } from './names.js'
import type { Field, NewOrganization } from './schemas.js'

/** There is no standard industry field: accounts that want one add a field with this name. */
export const INDUSTRY_FIELD_NAME = 'Industry'

export interface OrganizationRef {
  id: number
  name: string
}

export interface NewOrganizationInput {
  name: string
  ownerId?: number
  industry?: string | null
  country?: string | null
}

export interface CreatedOrganization extends OrganizationRef {
  created: boolean
  /** E.g. the industry was left out because the account has no "Industry" field. */
  warnings: string[]
}

/** The organization with exactly this name (trimmed, ignoring case), as `exact_match` means it. */
export async function findOrganizationByName(
  client: PipedriveClient,
  name: string,
  options: ApiOptions = {}
): Promise<OrganizationRef | undefined> {
  const items = await searchOrganizations(client, name.trim(), options)
  const match = items.map(({ item }) => item).find((item) => sameText(item.name, name))
  return match ? { id: match.id, name: match.name } : undefined
}

/** The organization field named "Industry", if the account has one (the caller caches it). */
export async function findIndustryField(client: PipedriveClient): Promise<Field | undefined> {
  return (await listOrganizationFields(client)).find((field) =>
    sameText(field.field_name, INDUSTRY_FIELD_NAME)
  )
}

/**
 * Creates the organization (country in its address, industry in the "Industry" field) unless a
 * lost earlier create made it already. `industryField` is the cached result of findIndustryField.
 */
export async function createOrganization(
  client: PipedriveClient,
  input: NewOrganizationInput,
  industryField: Field | undefined,
  options: CreateOptions = {}
): Promise<CreatedOrganization> {
  const warnings: string[] = []
  const body: NewOrganization = { name: input.name.trim() }
  if (input.ownerId !== undefined) body.owner_id = input.ownerId
  if (input.country) body.address = { value: input.country, country: input.country }
  if (input.industry) {
    const value = industryValue(industryField, input.industry)
    if (industryField && value !== undefined) body.custom_fields = { [industryField.field_code]: value }
    else if (!industryField) {
      warnings.push(
        `industry "${input.industry}" left out: the Pipedrive account has no organization field "Industry"`
      )
    } else
      warnings.push(`industry "${input.industry}" left out: not an option of the Pipedrive "Industry" field`)
  }
  const { value, created } = await createOnce(
    client,
    {
      what: `organization "${body.name}"`,
      create: async (callOptions) => {
        const organization = await createOrganizationCall(client, body, callOptions)
        return { id: organization.id, name: organization.name }
      },
      lookup: (callOptions) => findOrganizationByName(client, body.name, callOptions)
    },
    options
  )
  return { ...value, created, warnings }
}

/** Text fields take the string; enum/set fields take the id of the option with that label. */
function industryValue(field: Field | undefined, industry: string): string | number | number[] | undefined {
  if (!field) return undefined
  if (field.field_type !== 'enum' && field.field_type !== 'set') return industry
  const option = field.options?.find((candidate) => sameText(candidate.label, industry))
  if (!option) return undefined
  return field.field_type === 'set' ? [option.id] : option.id
}
