import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** A per-user Pipedrive token at rest: AES-256-GCM with a fresh 12-byte IV per encryption. */
export interface EncryptedToken {
  ciphertext: string
  iv: string
  tag: string
}

export interface DecryptedToken {
  token: string
  /**
   * False when it was encrypted with an older key of the list, or before ciphertexts were bound
   * to their owner: it should be encrypted again with `encryptToken`.
   */
  current: boolean
}

export class TokenDecryptionError extends Error {
  override name = 'TokenDecryptionError'
}

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
// Only full-length tags: GCM also verifies a truncated one, and a 4-byte tag is forged in 2^32 tries.
const TAG_BYTES = 16

/**
 * The additional authenticated data: the ciphertext decrypts only for the user it was stored for,
 * so a row's token copied into another user's row is refused rather than used for that user.
 */
function ownerData(owner: string): Buffer {
  return Buffer.from(`pipedrive-sync user token\0${owner.toLowerCase()}`, 'utf8')
}

/** Encrypts `token` for `owner` (the user's email) with `key`, the current key. */
export function encryptToken(key: Buffer, owner: string, token: string): EncryptedToken {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(ownerData(owner))
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return {
    ciphertext: ciphertext.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64')
  }
}

function attempt(key: Buffer, encrypted: EncryptedToken, aad: Buffer | undefined): string | undefined {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(encrypted.iv, 'base64'), {
      authTagLength: TAG_BYTES
    })
    decipher.setAuthTag(Buffer.from(encrypted.tag, 'base64'))
    if (aad) decipher.setAAD(aad)
    return Buffer.concat([
      decipher.update(Buffer.from(encrypted.ciphertext, 'base64')),
      decipher.final()
    ]).toString('utf8')
  } catch {
    return undefined
  }
}

/**
 * Tries every key, the current one (first) first. Tokens stored before ciphertexts were bound to
 * their owner decrypt without the owner's data, and come back as not current. Throws
 * TokenDecryptionError when no key opens it: another key, another user's row, or altered.
 */
export function decryptToken(
  keys: readonly Buffer[],
  owner: string,
  encrypted: EncryptedToken
): DecryptedToken {
  const aad = ownerData(owner)
  for (const [index, key] of keys.entries()) {
    const token = attempt(key, encrypted, aad)
    if (token !== undefined) return { token, current: index === 0 }
  }
  for (const key of keys) {
    const token = attempt(key, encrypted, undefined)
    if (token !== undefined) return { token, current: false }
  }
  throw new TokenDecryptionError('no configured key decrypts the stored token')
}
