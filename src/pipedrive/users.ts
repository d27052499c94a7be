import type { PipedriveAccount } from './account.js'
import { type ApiOptions, findUsers } from './api.js'
import { sameText } from './names.js'
import type { User } from './schemas.js'

/**
 * The active Pipedrive user with exactly this email. `users/find` may match partially, so the
 * answer is filtered here; deactivated and deleted users never own new records. Not cached:
 * the caller keeps the id in its users table.
 */
export async function findUserByEmail(
  account: PipedriveAccount,
  email: string,
  options: ApiOptions = {}
): Promise<User | undefined> {
  const users = await findUsers(account.client, email.trim(), options)
  return users.find((user) => sameText(user.email, email) && user.active_flag && user.is_deleted !== true)
}
