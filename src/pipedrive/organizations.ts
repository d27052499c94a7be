import { type ApiOptions, createOrganization as createOrganizationCall, searchOrganizations } from './api.js'
import type { PipedriveClient } from './client.js'
import { type CreateOptions, createOnce } from './create-once.js'
import { type IndustryField, industryPart } from './industry.js'
import { sameText } from './names.js'
import type { NewOrganization } from './schemas.js'

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
  /** E.g. the industry was left out: not an option of the account's industry field. */
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

/**
 * Creates the organization (country in its address, industry as the account takes it) unless a
 * lost earlier create made it already. `industryField` is the cached result of findIndustryField.
 */
export async function createOrganization(
  client: PipedriveClient,
  input: NewOrganizationInput,
  industryField: IndustryField | undefined,
  options: CreateOptions = {}
): Promise<CreatedOrganization> {
  const industry = input.industry ? industryPart(industryField, input.industry) : undefined
  const body: NewOrganization = { name: input.name.trim(), ...industry?.body }
  if (input.ownerId !== undefined) body.owner_id = input.ownerId
  if (input.country) body.address = { value: input.country, country: input.country }
  const warnings = industry?.warning ? [industry.warning] : []
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
