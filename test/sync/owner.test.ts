import { createCipheriv, randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { decryptToken, type EncryptedToken, encryptToken } from '../../src/crypto/token-cipher.js'
import { rows } from '../../src/db/database.js'
import type { PipedriveConnection } from '../../src/pipedrive/connection.js'
import type { SyncDeps } from '../../src/sync/deps.js'
import { accountFor } from '../../src/sync/owner.js'
import { testConfig, testDatabase, uid } from '../helper.js'

const database = await testDatabase(t)
const OLD = Buffer.alloc(32, 11)
const NEW = Buffer.alloc(32, 12)
const TOKEN = 'own-token-5a5a5a5a5a5a5a5a'

interface Line {
  level: string
  object: Record<string, unknown>
  message: string | undefined
}

function depsWith(keys: Buffer[]) {
  const lines: Line[] = []
  const log = (level: string) => (object: Record<string, unknown>, message?: string) =>
    lines.push({ level, object, message })
  const deps: SyncDeps = {
    db: database.db,
    config: testConfig(
      keys.length > 0 ? { TOKEN_ENCRYPTION_KEYS: keys.map((key) => key.toString('base64')).join(',') } : {}
    ),
    // The account is the token it was made for: which token was chosen is all these tests look at.
    pipedrive: { forToken: (token: string) => ({ token }) } as unknown as PipedriveConnection,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    notify: () => {}
  }
  return { deps, lines }
}

async function storeRow(email: string, encrypted: EncryptedToken) {
  await database.db.execute(sql`
    insert into users (email, api_token_ciphertext, api_token_iv, api_token_tag)
    values (${email}, ${encrypted.ciphertext}, ${encrypted.iv}, ${encrypted.tag})
    on conflict (email) do update set api_token_ciphertext = excluded.api_token_ciphertext,
      api_token_iv = excluded.api_token_iv, api_token_tag = excluded.api_token_tag`)
}

async function storedRow(email: string): Promise<EncryptedToken> {
  const [row] = await rows<{ ciphertext: string; iv: string; tag: string }>(
    database.db,
    sql`select api_token_ciphertext as ciphertext, api_token_iv as iv, api_token_tag as tag
        from users where email = ${email}`
  )
  if (!row) throw new Error(`no users row for ${email}`)
  return row
}

const chosen = async (deps: SyncDeps, email: string) => {
  const choice = await accountFor(deps, email)
  if (!choice) throw new Error(`no token for ${email}`)
  return { source: choice.source, token: (choice.account as unknown as { token: string }).token }
}

t.test('rotation: a token under the old key is used, then stored again under the current one', async (t) => {
  const email = `${uid('rot')}@crm.example`
  await storeRow(email, encryptToken(OLD, email, TOKEN))
  const { deps, lines } = depsWith([NEW, OLD])
  t.same(await chosen(deps, email), { source: 'owner', token: TOKEN })
  t.same(
    decryptToken([NEW], email, await storedRow(email)),
    { token: TOKEN, current: true },
    'now under the new key'
  )
  t.match(lines, [{ level: 'info', object: { owner: email } }])
  t.same(await chosen(depsWith([NEW]).deps, email), { source: 'owner', token: TOKEN }, 'the old key can go')
})

t.test(
  'a token stored before ciphertexts were bound to their owner: used, and stored again bound',
  async (t) => {
    const email = `${uid('old')}@crm.example`
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', NEW, iv)
    const ciphertext = Buffer.concat([cipher.update(TOKEN, 'utf8'), cipher.final()])
    await storeRow(email, {
      ciphertext: ciphertext.toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64')
    })
    const { deps } = depsWith([NEW])
    t.same(await chosen(deps, email), { source: 'owner', token: TOKEN })
    const again = await storedRow(email)
    t.same(decryptToken([NEW], email, again), { token: TOKEN, current: true })
    t.throws(() => decryptToken([NEW], 'someone.else@crm.example', again), 'bound to its owner now')
  }
)

t.test("a ciphertext copied to another user's row: not used, said once, no token material", async (t) => {
  const sam = `${uid('sam')}@crm.example`
  const olive = `${uid('olive')}@crm.example`
  const sams = encryptToken(NEW, sam, TOKEN)
  await storeRow(sam, sams)
  await storeRow(olive, sams)
  const { deps, lines } = depsWith([NEW])
  for (let round = 0; round < 3; round++)
    t.same(await chosen(deps, olive), { source: 'company', token: 'test-token' }, 'the company token')
  t.same(await chosen(deps, sam), { source: 'owner', token: TOKEN }, "still Sam's own")
  const said = lines.filter((line) => line.level === 'error')
  t.equal(said.length, 1, 'one line for three uses')
  t.match(said[0], { object: { owner: olive }, message: new RegExp(`token of ${olive} cannot be used`) })
  const output = JSON.stringify(lines)
  for (const material of [TOKEN, sams.ciphertext, sams.iv, sams.tag]) t.notMatch(output, material)

  await storeRow(olive, encryptToken(OLD, olive, TOKEN))
  await chosen(deps, olive)
  t.equal(lines.filter((line) => line.level === 'error').length, 2, 'another stored token is said again')
})

t.test('a stored token and no key configured: said once, the company token', async (t) => {
  const email = `${uid('nokey')}@crm.example`
  await storeRow(email, encryptToken(NEW, email, TOKEN))
  const { deps, lines } = depsWith([])
  t.same(await chosen(deps, email), { source: 'company', token: 'test-token' })
  t.same(await chosen(deps, email), { source: 'company', token: 'test-token' })
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 'error', message: /TOKEN_ENCRYPTION_KEYS is not set/ })
})
