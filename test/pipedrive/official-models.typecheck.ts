/**
 * Type-level checks of `Official` (run by `npm run typecheck`, not by tap). Each
 * `@ts-expect-error` must meet an error: a check that stopped rejecting fails the typecheck.
 */
import type { AddActivityRequest, AddOrganizationRequest, UpdateOrganizationRequest } from 'pipedrive/v2'
import type { Official } from '../../src/pipedrive/official-models.js'
import type { ActivityUpdate, OrganizationUpdate } from '../../src/pipedrive/schemas.js'

type Org = AddOrganizationRequest
type OurOrg = { name: string; industry?: number; custom_fields?: Record<string, unknown> }
type Misspelt = { name: string; industries?: number }
type IndustryLabel = { name: string; industry?: string }
type County = { name: string; address?: { value: string; county?: string } }
type Participants = { subject: string; participants: Array<{ person_id: number; main: boolean }> }

export const conforming: Official<OurOrg, Org> = { name: 'Acme', industry: 24, custom_fields: { a: 1 } }
// @ts-expect-error a field Pipedrive's model does not declare
export const misspelt: Official<Misspelt, Org> = { name: 'Acme' }
// @ts-expect-error the standard industry is an option id, not its label
export type Label = Official<IndustryLabel, Org>
// @ts-expect-error an undeclared field inside a nested object
export const county: Official<County, Org> = { name: 'Acme' }
// @ts-expect-error an undeclared field inside array items
export const participants: Official<Participants, AddActivityRequest> = { subject: 'Intro', participants: [] }

// Updates: our PATCH bodies conform to the update models (activities: the package's
// `updateActivity` takes the create's model; it has no update model of its own).
export const organizationUpdate: Official<OrganizationUpdate, UpdateOrganizationRequest> = { name: 'Acme AG' }
export const activityUpdate: Official<ActivityUpdate, AddActivityRequest> = { done: true }
// @ts-expect-error an update field Pipedrive's update model does not declare
export const rename: Official<{ title?: string }, UpdateOrganizationRequest> = {}
