import { sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import { findUserByEmail } from '../pipedrive/users.js'
import type { SyncDeps } from './deps.js'
import { ownerToken, type StoredToken } from './owner-token.js'

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

/** The owner's users row, as accountFor needs it (a caller may select it with its own query). */
export interface UserRow extends StoredToken {
  pipedrive_user_id: number | null
}

async function userRow(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await rows<UserRow>(
    db,
    sql`select pipedrive_user_id, api_token_ciphertext, api_token_iv, api_token_tag
        from users where email = ${email.toLowerCase()}`
  )
  return row
}

/**
 * Which token works for an owner (docs/sync.md): the owner's own (stored by setup-user), else the
 * company token. Undefined when neither exists: the caller marks the work `skipped`. `known` is
 * the owner's users row when the caller read it already (null: there is none).
 */
export async function accountFor(
  deps: SyncDeps,
  ownerEmail: string,
  known?: UserRow | null
): Promise<AccountChoice | undefined> {
  const row = known === undefined ? await userRow(deps.db, ownerEmail) : (known ?? undefined)
  const ownerUserId = row?.pipedrive_user_id ?? null
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
  const cached = await userRow(deps.db, email)
  if (cached?.pipedrive_user_id != null) return { userId: cached.pipedrive_user_id }
  const user = await findUserByEmail(account, email, signal ? { signal } : {})
  if (!user) {
    return {
      userId: null,
      warning: `no active Pipedrive user has the email ${email}: created without an owner`
    }
  }
  await storePipedriveUserId(deps.db, { email, id: owner.id ?? null, name: owner.name ?? null }, user.id)
  return { userId: user.id }
}

export async function storePipedriveUserId(
  db: Executor,
  owner: OwnerRef,
  pipedriveUserId: number
): Promise<void> {
  await db.execute(sql`
    insert into users (email, crm_id, name, pipedrive_user_id)
    values (${owner.email.toLowerCase()}, ${owner.id ?? null}, ${owner.name ?? null}, ${pipedriveUserId})
    on conflict (email) do update set
      pipedrive_user_id = excluded.pipedrive_user_id,
      crm_id = coalesce(excluded.crm_id, users.crm_id),
      name = coalesce(excluded.name, users.name),
      updated_at = now()`)
}
