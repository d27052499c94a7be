import { databaseErrorSummary, involvesDatabase } from '../db/database-errors.js'
import { getCurrentUser } from '../pipedrive/api.js'
import { PipedriveError } from '../pipedrive/errors.js'
import { findUserByEmail } from '../pipedrive/users.js'
import { storePipedriveUserId } from '../store/users.js'
import type { SyncDeps } from './deps.js'
import { accountFor, storeOwnerToken } from './owner.js'

export type SetupUserOutcome =
  | { kind: 'ok'; pipedriveUserId: number }
  | { kind: 'no_key' | 'token_rejected' | 'not_found' | 'unreachable' | 'database'; error: string }

/** Pipedrive refused the credentials themselves (not a temporary failure). */
const isAuthRefusal = (error: unknown) =>
  error instanceof PipedriveError && (error.status === 401 || error.status === 403)

/**
 * `POST /api/pipedrive/setup-user` (docs/interface.md): the Pipedrive user with this email, stored for the
 * CRM user with this email; with `apiToken`, that token is checked with /users/me (it must be this
 * user's) and stored encrypted with the current key, bound to this user, to be used for the user's
 * contacts from then on.
 */
export async function setupUser(deps: SyncDeps, email: string, apiToken?: string): Promise<SetupUserOutcome> {
  const address = email.trim().toLowerCase()
  const keys = deps.config.tokenEncryptionKeys
  if (apiToken !== undefined && keys.length === 0) {
    return {
      kind: 'no_key',
      error:
        'apiToken given but neither TOKEN_ENCRYPTION_KEYS nor TOKEN_ENCRYPTION_KEY is configured: the token cannot be stored'
    }
  }
  try {
    const account = apiToken ? deps.pipedrive.forToken(apiToken) : (await accountFor(deps, address))?.account
    if (!account) return { kind: 'unreachable', error: 'no Pipedrive token configured (PIPEDRIVE_API_TOKEN)' }
    if (apiToken) {
      const me = await getCurrentUser(account.client)
      if (me.email.toLowerCase() !== address) {
        return {
          kind: 'token_rejected',
          error: `the token belongs to another Pipedrive user, not ${address}`
        }
      }
    }
    const user = await findUserByEmail(account, address)
    if (!user) return { kind: 'not_found', error: `no active Pipedrive user has the email ${address}` }
    await storePipedriveUserId(deps.db, { email: address }, user.id)
    if (apiToken) await storeOwnerToken(deps.db, keys, address, apiToken)
    return { kind: 'ok', pipedriveUserId: user.id }
  } catch (error) {
    if (apiToken && isAuthRefusal(error)) {
      return {
        kind: 'token_rejected',
        error: `Pipedrive rejected the token (${(error as PipedriveError).status})`
      }
    }
    if (involvesDatabase(error)) {
      // The error's text holds the statement's values (the email, the token's ciphertext).
      deps.log.error({ err: error }, 'setup-user: the database refused the write')
      return { kind: 'database', error: databaseErrorSummary(error) }
    }
    const reason = error instanceof Error ? error.message : String(error)
    return { kind: 'unreachable', error: `Pipedrive could not be asked: ${reason}` }
  }
}
