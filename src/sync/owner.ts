import type { PipedriveAccount } from '../pipedrive/account.js'
import { findUserByEmail } from '../pipedrive/users.js'
import { type OwnerUser, ownerUser, storePipedriveUserId } from '../store/users.js'
import type { SyncDeps } from './deps.js'
import { ownerToken } from './owner-token.js'

export interface OwnerRef {
  email: string
  id?: string | null
  name?: string | null
  /** The owner's Pipedrive user id when the caller has read it already (saves reading it again). */
  pipedriveUserId?: number | null
}

export interface AccountChoice {
  account: PipedriveAccount
  source: 'owner' | 'company'
  /** The owner's Pipedrive user id as stored in the users table (null: not known yet). */
  ownerUserId: number | null
}

/**
 * Which token works for an owner (docs/sync.md): the owner's own (stored by setup-user), else the
 * company token. Undefined when neither exists: the caller marks the work `skipped`. `known` is
 * the owner's users row when the caller read it already (null: there is none).
 */
export async function accountFor(
  deps: SyncDeps,
  ownerEmail: string,
  known?: OwnerUser | null
): Promise<AccountChoice | undefined> {
  const row = known === undefined ? await ownerUser(deps.db, ownerEmail) : (known ?? undefined)
  const ownerUserId = row?.pipedriveUserId ?? null
  const token = await ownerToken(deps, ownerEmail, row)
  if (token !== undefined) return { account: deps.pipedrive.forToken(token), source: 'owner', ownerUserId }
  const company = deps.config.PIPEDRIVE_API_TOKEN
  return company ? { account: deps.pipedrive.forToken(company), source: 'company', ownerUserId } : undefined
}

/**
 * The owner's Pipedrive user id: from the users table, else looked up by email and stored there
 * for next time. Null (with a warning for the sync state) when no active user has that email.
 */
export async function pipedriveUserIdFor(
  deps: SyncDeps,
  account: PipedriveAccount,
  owner: OwnerRef,
  signal?: AbortSignal
): Promise<{ userId: number | null; warning?: string }> {
  const email = owner.email.toLowerCase()
  if (owner.pipedriveUserId != null) return { userId: owner.pipedriveUserId }
  const cached = await ownerUser(deps.db, email)
  if (cached?.pipedriveUserId != null) return { userId: cached.pipedriveUserId }
  const user = await findUserByEmail(account, email, signal ? { signal } : {})
  if (!user) {
    return {
      userId: null,
      warning: `no active Pipedrive user has the email ${email}: created without an owner`
    }
  }
  await storePipedriveUserId(deps.db, { email, crmId: owner.id ?? null, name: owner.name ?? null }, user.id)
  return { userId: user.id }
}
