import { type Static, Type } from '@sinclair/typebox'
import type { ActivityType, FieldOption } from '../pipedrive/schemas.js'

/** How the fake account is set up; each variant exercises a branch of the client. */
export const CompanyOptionsSchema = Type.Object({
  /**
   * Where organizations keep their industry. `standard` (default): Pipedrive's standard enum field
   * `industry`, as current accounts have it. An older account without it: `custom-text` or
   * `custom-enum`, a custom field named "Industry"; `none`, neither.
   */
  industryField: Type.Optional(
    Type.Union([
      Type.Literal('standard'),
      Type.Literal('custom-text'),
      Type.Literal('custom-enum'),
      Type.Literal('none')
    ])
  ),
  /** false: the v2 options endpoint refuses the label field, forcing the v1 fallback. */
  labelOptionsViaV2: Type.Optional(Type.Boolean()),
  /** false: the default "Warm lead" label is missing, so the client has to create it. */
  warmLeadLabel: Type.Optional(Type.Boolean())
})
export type CompanyOptions = Static<typeof CompanyOptionsSchema>

export interface SandboxUser {
  id: number
  name: string
  email: string
  active_flag: boolean
  is_admin: boolean
  token: string
}

export const COMPANY = { id: 501, name: 'Sandbox Company', domain: 'sandbox' }

/** The example users of the docs. Tokens are fixed so black-box tests in other processes know them. */
export function defaultUsers(): SandboxUser[] {
  return [
    {
      id: 1001,
      name: 'Olivia Owner',
      email: 'owner@crm.example',
      active_flag: true,
      is_admin: true,
      token: 'sandbox-token-owner'
    },
    {
      id: 1002,
      name: 'Sam Sales',
      email: 'sales@crm.example',
      active_flag: true,
      is_admin: false,
      token: 'sandbox-token-sales'
    },
    {
      id: 1003,
      name: 'Fran Former',
      email: 'former@crm.example',
      active_flag: false,
      is_admin: false,
      token: 'sandbox-token-former'
    }
  ]
}

/** Pipedrive's default person labels — note "Warm lead" with a lowercase l, as Pipedrive ships it. */
export function defaultLabels(withWarmLead: boolean): FieldOption[] {
  const labels: FieldOption[] = [
    { id: 5, label: 'Customer', color: 'green' },
    { id: 6, label: 'Hot lead', color: 'red' },
    { id: 7, label: 'Warm lead', color: 'yellow' },
    { id: 8, label: 'Cold lead', color: 'blue' }
  ]
  return withWarmLead ? labels : labels.filter((option) => option.id !== 7)
}

/** The options of the standard `industry` field: the sandbox's own list, ids chosen here. */
export const STANDARD_INDUSTRY_OPTIONS: FieldOption[] = [
  'Agriculture',
  'Construction',
  'Consulting',
  'Education',
  'Energy',
  'Finance',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Manufacturing',
  'Media',
  'Real estate',
  'Retail',
  'Software',
  'Telecommunications',
  'Transportation'
].map((label, index) => ({ id: 11 + index, label }))

/** The older-account case: a custom field named "Industry" (its code a 40-character hash). */
export const CUSTOM_INDUSTRY_FIELD_CODE = '3f1b6e0c2a9d4e7f8b5c1a2d3e4f5a6b7c8d9e0f'
export const CUSTOM_INDUSTRY_OPTIONS: FieldOption[] = [
  { id: 31, label: 'Software' },
  { id: 32, label: 'Manufacturing' },
  { id: 33, label: 'Retail' }
]

export function defaultActivityTypes(): ActivityType[] {
  const keys = [
    ['call', 'Call'],
    ['meeting', 'Meeting'],
    ['task', 'Task'],
    ['deadline', 'Deadline'],
    ['email', 'Email'],
    ['lunch', 'Lunch']
  ] as const
  return keys.map(([key_string, name], index) => ({ id: index + 1, name, key_string, active_flag: true }))
}
