import { decryptToken, type EncryptedToken, encryptToken } from '../crypto/token-cipher.js'
import type { Executor } from '../db/database.js'
import { replaceUserToken, type StoredToken, storeUserToken } from '../store/users.js'
import type { SyncDeps } from './deps.js'

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
export async function ownerToken(
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
