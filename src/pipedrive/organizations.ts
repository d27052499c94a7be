import type { PipedriveAccount } from './account.js'
import { type ApiOptions, postOrganization, searchOrganizations } from './api.js'
import { type CreateOptions, createOnce } from './create-once.js'
import { findIndustryField, industryPart } from './industry.js'
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
  account: PipedriveAccount,
  name: string,
  options: ApiOptions = {}
): Promise<OrganizationRef | undefined> {
  const items = await searchOrganizations(account.client, name.trim(), options)
  const match = items.map(({ item }) => item).find((item) => sameText(item.name, name))
  return match ? { id: match.id, name: match.name } : undefined
}

/**
 * Creates the organization (country in its address, industry as the account takes it) unless a
 * lost earlier create made it already. The account's industry field is read once and cached; an
 * industry left out is logged and returned as a warning.
 */
export async function createOrganization(
  account: PipedriveAccount,
  input: NewOrganizationInput,
  options: CreateOptions = {}
): Promise<CreatedOrganization> {
  const { client } = account
  const industryField = input.industry
    ? await account.cache.industryField.get('industry', () => findIndustryField(client))
    : undefined
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
        const organization = await postOrganization(client, body, callOptions)
        return { id: organization.id, name: organization.name }
      },
      lookup: (callOptions) => findOrganizationByName(account, body.name, callOptions)
    },
    options
  )
  for (const warning of warnings) account.log.warn({ pipedriveToken: client.key }, warning)
  return { ...value, created, warnings }
}
