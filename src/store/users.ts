import { and, eq, sql } from 'drizzle-orm'
import type { EncryptedToken } from '../crypto/token-cipher.js'
import type { Executor } from '../db/database.js'
import { users } from '../db/schema.js'

export type User = typeof users.$inferSelect

/** An owner's own Pipedrive token as the users row keeps it (encrypted). */
export type StoredToken = Pick<User, 'apiTokenCiphertext' | 'apiTokenIv' | 'apiTokenTag'>

/** The owner's users row as choosing a token needs it. */
export type OwnerUser = StoredToken & Pick<User, 'pipedriveUserId'>

/** Users are keyed by email, compared lower-cased. */
const byEmail = (email: string) => eq(users.email, email.toLowerCase())

export async function ownerUser(db: Executor, email: string): Promise<OwnerUser | undefined> {
  const [row] = await db
    .select({
      pipedriveUserId: users.pipedriveUserId,
      apiTokenCiphertext: users.apiTokenCiphertext,
      apiTokenIv: users.apiTokenIv,
      apiTokenTag: users.apiTokenTag
    })
    .from(users)
    .where(byEmail(email))
  return row
}

/** Creates the user or sets its Pipedrive user id, keeping a CRM id and name it has when none is given. */
export async function storePipedriveUserId(
  db: Executor,
  user: { email: string; crmId?: string | null; name?: string | null },
  pipedriveUserId: number
): Promise<void> {
  await db
    .insert(users)
    .values({
      email: user.email.toLowerCase(),
      crmId: user.crmId ?? null,
      name: user.name ?? null,
      pipedriveUserId
    })
    .onConflictDoUpdate({
      target: users.email,
      set: {
        pipedriveUserId: sql`excluded.pipedrive_user_id`,
        crmId: sql`coalesce(excluded.crm_id, ${users.crmId})`,
        name: sql`coalesce(excluded.name, ${users.name})`,
        updatedAt: sql`now()`
      }
    })
}

const tokenColumns = (token: EncryptedToken) => ({
  apiTokenCiphertext: token.ciphertext,
  apiTokenIv: token.iv,
  apiTokenTag: token.tag,
  updatedAt: sql`now()`
})

/** Stores the owner's encrypted token (the user must exist). */
export async function storeUserToken(db: Executor, email: string, token: EncryptedToken): Promise<void> {
  await db.update(users).set(tokenColumns(token)).where(byEmail(email))
}

/** Replaces the owner's token only while it is still `stored` (it may have been replaced meanwhile). */
export async function replaceUserToken(
  db: Executor,
  email: string,
  stored: EncryptedToken,
  token: EncryptedToken
): Promise<void> {
  await db
    .update(users)
    .set(tokenColumns(token))
    .where(
      and(byEmail(email), eq(users.apiTokenIv, stored.iv), eq(users.apiTokenCiphertext, stored.ciphertext))
    )
}
