import { createCipheriv, randomBytes } from 'node:crypto'
import t from 'tap'
import {
  decryptToken,
  type EncryptedToken,
  encryptToken,
  TokenDecryptionError
} from '../../src/crypto/token-cipher.js'

const OLD = Buffer.alloc(32, 1)
const NEW = Buffer.alloc(32, 2)
const TOKEN = 'pipedrive-token-0123456789abcdef'

/** As tokens were stored before ciphertexts were bound to their owner. */
function unboundEncryption(key: Buffer, token: string): EncryptedToken {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return {
    ciphertext: ciphertext.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64')
  }
}

t.test('a token decrypts for its owner (the email in any case)', async (t) => {
  const stored = encryptToken(NEW, 'sam@crm.example', TOKEN)
  t.notMatch(JSON.stringify(stored), TOKEN)
  t.same(decryptToken([NEW], 'Sam@CRM.example', stored), { token: TOKEN, current: true })
})

t.test('a truncated authentication tag is refused', async (t) => {
  const stored = encryptToken(NEW, 'sam@crm.example', TOKEN)
  const full = Buffer.from(stored.tag, 'base64')
  t.equal(full.length, 16)
  for (const bytes of [4, 8, 12, 15]) {
    const truncated = { ...stored, tag: full.subarray(0, bytes).toString('base64') }
    t.throws(() => decryptToken([NEW], 'sam@crm.example', truncated), TokenDecryptionError, `${bytes} bytes`)
  }
})

t.test("a ciphertext moved to another user's row does not decrypt there", async (t) => {
  const sams = encryptToken(NEW, 'sam@crm.example', TOKEN)
  t.throws(() => decryptToken([NEW], 'olive@crm.example', sams), TokenDecryptionError)
})

t.test('rotation: the first key encrypts, every key decrypts', async (t) => {
  const before = encryptToken(OLD, 'sam@crm.example', TOKEN)
  t.same(decryptToken([NEW, OLD], 'sam@crm.example', before), { token: TOKEN, current: false })
  t.throws(
    () => decryptToken([NEW], 'sam@crm.example', before),
    TokenDecryptionError,
    'not without the old key'
  )
  const after = encryptToken(NEW, 'sam@crm.example', TOKEN)
  t.same(decryptToken([NEW], 'sam@crm.example', after), { token: TOKEN, current: true })
  t.throws(() => decryptToken([OLD], 'sam@crm.example', after), TokenDecryptionError)
})

t.test('a token stored before owners were bound still decrypts, and asks to be stored again', async (t) => {
  const legacy = unboundEncryption(OLD, TOKEN)
  t.same(decryptToken([OLD], 'sam@crm.example', legacy), { token: TOKEN, current: false })
  t.same(decryptToken([NEW, OLD], 'sam@crm.example', legacy), { token: TOKEN, current: false })
  t.throws(() => decryptToken([NEW], 'sam@crm.example', legacy), TokenDecryptionError)
})

t.test('altered or empty: refused, and the error holds nothing of the token', async (t) => {
  const stored = encryptToken(NEW, 'sam@crm.example', TOKEN)
  const flipped = Buffer.from(stored.ciphertext, 'base64')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  const error = t.throws(() =>
    decryptToken([NEW], 'sam@crm.example', { ...stored, ciphertext: flipped.toString('base64') })
  )
  t.notMatch(String(error), TOKEN)
  t.throws(() => decryptToken([], 'sam@crm.example', stored), TokenDecryptionError, 'no key')
})
