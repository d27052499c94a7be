import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** A per-user Pipedrive token at rest: AES-256-GCM with a fresh 12-byte IV per encryption. */
export interface EncryptedToken {
  ciphertext: string
  iv: string
  tag: string
}

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12

export function encryptToken(key: Buffer, token: string): EncryptedToken {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, iv)
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return {
    ciphertext: ciphertext.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64')
  }
}

/** Throws when the key is wrong or the stored value was tampered with (GCM authenticates it). */
export function decryptToken(key: Buffer, encrypted: EncryptedToken): string {
  const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(encrypted.iv, 'base64'))
  decipher.setAuthTag(Buffer.from(encrypted.tag, 'base64'))
  return Buffer.concat([
    decipher.update(Buffer.from(encrypted.ciphertext, 'base64')),
    decipher.final()
  ]).toString('utf8')
}
