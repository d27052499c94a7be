import type { PipedriveAccount } from '../pipedrive/account.js'
import type { ActivityRow, ContactLink } from '../store/activities.js'
import type { SyncDeps } from './deps.js'
import { type OwnerRef, pipedriveUserIdFor } from './owner.js'

/** Who may own the activity, best first: its own owner, then the contact's (docs/interface.md). */
export function ownerCandidates(activity: ActivityRow, contact: ContactLink | null): OwnerRef[] {
  const candidates: OwnerRef[] = []
  if (activity.ownerEmail) {
    candidates.push({ email: activity.ownerEmail, id: activity.ownerId, name: activity.ownerName })
  }
  if (contact && !candidates.some((owner) => owner.email === contact.ownerEmail.toLowerCase())) {
    candidates.push({ email: contact.ownerEmail, id: contact.ownerId, name: contact.ownerName })
  }
  return candidates
}

/**
 * The first candidate with an active Pipedrive user (ids cached in the users table). An owner
 * Pipedrive does not know is passed over with a warning rather than failing the activity:
 * without `owner_id` Pipedrive assigns the token's user, which beats losing the activity.
 */
export async function activityOwnerId(
  deps: SyncDeps,
  account: PipedriveAccount,
  candidates: OwnerRef[],
  signal: AbortSignal
): Promise<{ ownerId?: number; warning?: string }> {
  const unknown: string[] = []
  for (const owner of candidates) {
    const { userId } = await pipedriveUserIdFor(deps, account, owner, signal)
    if (userId !== null) {
      if (unknown.length === 0) return { ownerId: userId }
      return { ownerId: userId, warning: `${noUser(unknown)}: owner set to ${owner.email.toLowerCase()}` }
    }
    unknown.push(owner.email.toLowerCase())
  }
  return unknown.length === 0 ? {} : { warning: `${noUser(unknown)}: created without an owner` }
}

function noUser(emails: string[]): string {
  return `no active Pipedrive user has the email ${emails.join(' or ')}`
}
