import { listOrganizationFields } from './api.js'
import type { PipedriveClient } from './client.js'
import { sameText } from './names.js'
import type { NewOrganization, OrganizationField } from './schemas.js'

/** Pipedrive's standard organization field (API v2): an enum, its value an option id, top level. */
export const STANDARD_INDUSTRY_FIELD_CODE = 'industry'
/** Older accounts have no standard field; some added a custom field with this name instead. */
export const CUSTOM_INDUSTRY_FIELD_NAME = 'Industry'

/** Custom field types whose value is the text itself. */
const TEXT_FIELD_TYPES = new Set(['varchar', 'varchar_auto', 'text'])

/** Where the account keeps an organization's industry. */
export interface IndustryField {
  kind: 'standard' | 'custom'
  field: OrganizationField
}

/** The part of an organization body that carries the industry; empty with a warning when left out. */
export interface IndustryPart {
  body: Pick<NewOrganization, 'industry' | 'custom_fields'>
  warning?: string
}

/**
 * The standard `industry` field; only when the account has none, a custom field named "Industry"
 * (never the standard one by its name: its value does not go in `custom_fields`). The caller
 * caches the answer.
 */
export async function findIndustryField(client: PipedriveClient): Promise<IndustryField | undefined> {
  const fields = await listOrganizationFields(client)
  const standard = fields.find((field) => field.field_code === STANDARD_INDUSTRY_FIELD_CODE)
  if (standard) return { kind: 'standard', field: standard }
  const custom = fields.find(
    (field) => field.is_custom_field !== false && sameText(field.field_name, CUSTOM_INDUSTRY_FIELD_NAME)
  )
  return custom ? { kind: 'custom', field: custom } : undefined
}

/**
 * The CRM's industry as the account takes it: the id of the option with that label (ignoring
 * case) of the standard field; in a custom field, the text or the option id. Options are the
 * account admin's to define, so an industry that is not one is left out with a warning.
 */
export function industryPart(target: IndustryField | undefined, industry: string): IndustryPart {
  const leftOut = (why: string): IndustryPart => ({
    body: {},
    warning: `industry "${industry}" left out: ${why}`
  })
  if (!target) {
    return leftOut(
      `the Pipedrive account has neither the standard industry field nor a custom field "${CUSTOM_INDUSTRY_FIELD_NAME}"`
    )
  }
  const { kind, field } = target
  const name =
    kind === 'standard' ? 'the Pipedrive industry field' : `the Pipedrive field "${field.field_name}"`
  if (kind === 'custom' && TEXT_FIELD_TYPES.has(field.field_type))
    return { body: { custom_fields: { [field.field_code]: industry } } }
  if (field.field_type !== 'enum' && field.field_type !== 'set')
    return leftOut(`${name} is a ${field.field_type} field`)
  const option = field.options?.find((candidate) => sameText(candidate.label, industry))
  if (!option || typeof option.id !== 'number') return leftOut(`not an option of ${name}`)
  if (kind === 'standard') return { body: { industry: option.id } }
  return {
    body: { custom_fields: { [field.field_code]: field.field_type === 'set' ? [option.id] : option.id } }
  }
}
