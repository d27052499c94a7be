import { SandboxHttpError } from './http-error.js'
import { isCustomField, type SandboxField } from './store.js'

/**
 * `custom_fields` takes custom fields of the account only, each with a value of its kind, as
 * Pipedrive checks: a standard field's code (`industry`) or an unknown one there is a 400.
 */
export function checkCustomFields(
  fields: SandboxField[],
  values: Record<string, unknown> | undefined,
  { update = false } = {}
): void {
  for (const [code, value] of Object.entries(values ?? {})) {
    const field = fields.find((candidate) => candidate.field_code === code)
    if (!field || !isCustomField(field))
      throw new SandboxHttpError(400, `custom_fields.${code}: not a custom field of this account`)
    // In an update, null clears the field.
    if (!(update && value === null) && !validValue(field, value))
      throw new SandboxHttpError(400, `custom_fields.${code}: invalid value for a ${field.field_type} field`)
  }
}

/**
 * A PATCH's `custom_fields` merge per key: a key sent replaces its value, null clears it, keys not
 * sent are kept (docs/pipedrive.md).
 */
export function mergeCustomFields(
  stored: Record<string, unknown>,
  sent: Record<string, unknown> | undefined
): Record<string, unknown> {
  const merged = { ...stored }
  for (const [code, value] of Object.entries(sent ?? {})) {
    if (value === null) delete merged[code]
    else merged[code] = value
  }
  return merged
}

/** The standard `industry` field takes one of its option ids, on an account that has the field. */
export function checkIndustry(fields: SandboxField[], industry: number | undefined): void {
  if (industry === undefined) return
  const field = fields.find((candidate) => candidate.field_code === 'industry' && !isCustomField(candidate))
  if (!field) throw new SandboxHttpError(400, 'industry: this account has no industry field')
  if (!isOption(field, industry)) throw new SandboxHttpError(400, `industry: option ${industry} not found`)
}

function isOption(field: SandboxField, value: unknown): boolean {
  return (field.options ?? []).some((option) => option.id === value)
}

function validValue(field: SandboxField, value: unknown): boolean {
  if (field.field_type === 'enum') return isOption(field, value)
  if (field.field_type === 'set')
    return Array.isArray(value) && value.every((item: unknown) => isOption(field, item))
  return typeof value === 'string'
}
