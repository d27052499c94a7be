import { sql } from 'drizzle-orm'
import { encryptToken } from '../crypto/token-cipher.js'
import { getCurrentUser } from '../pipedrive/api.js'
import { PipedriveError } from '../pipedrive/errors.js'
import type { SyncDeps } from './deps.js'
import { accountFor, storePipedriveUserId } from './owner.js'

export type SetupUserOutcome =
  | { kind: 'ok'; pipedriveUserId: number }
  | { kind: 'no_key' | 'token_rejected' | 'not_found' | 'unreachable'; error: string }

/** Pipedrive refused the credentials themselves (not a temporary failure). */
const isAuthRefusal = (error: unknown) =>
  error instanceof PipedriveError && (error.status === 401 || error.status === 403)

/**
 * `POST /api/pipedrive/setup-user` (CONTRACT §3): the Pipedrive user with this email, stored for the
 * CRM user with this email; with `apiToken`, that token is checked with /users/me (it must be this
 * user's) and stored encrypted, to be used for the user's contacts from then on.
 */
export async function setupUser(deps: SyncDeps, email: string, apiToken?: string): Promise<SetupUserOutcome> {
  const address = email.trim().toLowerCase()
  const key = deps.config.tokenEncryptionKey
  if (apiToken !== undefined && !key) {
    return {
      kind: 'no_key',
      error: 'apiToken given but TOKEN_ENCRYPTION_KEY is not configured: the token cannot be stored'
    }
  }
  const account = apiToken ? deps.pipedrive.forToken(apiToken) : (await accountFor(deps, address))?.account
  if (!account) return { kind: 'unreachable', error: 'no Pipedrive token configured (PIPEDRIVE_API_TOKEN)' }
  try {
    if (apiToken) {
      const me = await getCurrentUser(account.client)
      if (me.email.toLowerCase() !== address) {
        return {
          kind: 'token_rejected',
          error: `the token belongs to another Pipedrive user, not ${address}`
        }
      }
    }
    const user = await account.findUserByEmail(address)
    if (!user) return { kind: 'not_found', error: `no active Pipedrive user has the email ${address}` }
    await storePipedriveUserId(deps.db, { email: address }, user.id)
    if (apiToken && key) {
      const encrypted = encryptToken(key, apiToken)
      await deps.db.execute(sql`
        update users set api_token_ciphertext = ${encrypted.ciphertext}, api_token_iv = ${encrypted.iv},
          api_token_tag = ${encrypted.tag}, updated_at = now()
        where email = ${address}`)
    }
    return { kind: 'ok', pipedriveUserId: user.id }
  } catch (error) {
    if (apiToken && isAuthRefusal(error)) {
      return {
        kind: 'token_rejected',
        error: `Pipedrive rejected the token (${(error as PipedriveError).status})`
      }
    }
    const reason = error instanceof Error ? error.message : String(error)
    return { kind: 'unreachable', error: `Pipedrive could not be asked: ${reason}` }
  }
}
