import { decryptToken, type EncryptedToken, encryptToken } from '../crypto/token-cipher.js'
import type { Executor } from '../db/database.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import { findUserByEmail } from '../pipedrive/users.js'
import {
  type OwnerUser,
  ownerUser,
  replaceUserToken,
  type StoredToken,
  storePipedriveUserId,
  storeUserToken
} from '../store/users.js'
import type { SyncDeps } from './deps.js'

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

/**
 * Stored tokens this process has already said it cannot use. Said once per stored token (its IV
 * is new with every encryption), not on every job of its owner; a restart says it again.
 */
const reported = new Set<string>()
const MAX_REPORTED = 10_000

function reportOnce(deps: Pick<SyncDeps, 'log'>, owner: string, iv: string, why: string): void {
  const key = `${owner}\n${iv}`
  if (reported.has(key)) return
  if (reported.size >= MAX_REPORTED) reported.clear()
  reported.add(key)
  deps.log.error(
    { owner },
    `the stored Pipedrive token of ${owner} cannot be used (${why}): treated as having no own token until setup-user stores one again`
  )
}

export async function storeOwnerToken(db: Executor, keys: readonly Buffer[], owner: string, token: string) {
  const [key] = keys
  if (!key) throw new Error('no token encryption key configured')
  await storeUserToken(db, owner, encryptToken(key, owner, token))
}

/**
 * A token encrypted with an older key, or before ciphertexts were bound to their owner, is
 * encrypted again with the current key when it is used: once every stored token has been used,
 * an old key can leave the list. Only the row as it was read is rewritten (setup-user may have
 * stored a new token meanwhile); a failure costs nothing but another try next time.
 */
async function reencrypt(
  deps: Pick<SyncDeps, 'db' | 'config' | 'log'>,
  owner: string,
  stored: EncryptedToken,
  token: string
) {
  const [key] = deps.config.tokenEncryptionKeys
  if (!key) return
  const encrypted = encryptToken(key, owner, token)
  try {
    await replaceUserToken(deps.db, owner, stored, encrypted)
    deps.log.info({ owner }, 'stored Pipedrive token encrypted again with the current key')
  } catch (error) {
    deps.log.warn({ owner, err: error }, 'stored Pipedrive token not encrypted again; will try next time')
  }
}

/**
 * The owner's own token, decrypted; undefined when there is none or it cannot be used (said once
 * in the log, naming the owner and never the token).
 */
async function ownerToken(
  deps: Pick<SyncDeps, 'db' | 'config' | 'log'>,
  owner: string,
  row: StoredToken | undefined
): Promise<string | undefined> {
  if (!row?.apiTokenCiphertext || !row.apiTokenIv || !row.apiTokenTag) return undefined
  const stored = { ciphertext: row.apiTokenCiphertext, iv: row.apiTokenIv, tag: row.apiTokenTag }
  const keys = deps.config.tokenEncryptionKeys
  if (keys.length === 0) {
    reportOnce(deps, owner, stored.iv, 'TOKEN_ENCRYPTION_KEYS is not set')
    return undefined
  }
  let opened: ReturnType<typeof decryptToken>
  try {
    opened = decryptToken(keys, owner, stored)
  } catch {
    reportOnce(deps, owner, stored.iv, 'no key of TOKEN_ENCRYPTION_KEYS decrypts it for this user')
    return undefined
  }
  if (!opened.current) await reencrypt(deps, owner, stored, opened.token)
  return opened.token
}
