import t from 'tap'
import {
  ConfigError,
  DEVELOPMENT_OPERATOR_API_KEY,
  DEVELOPMENT_WEBHOOK_SECRET,
  loadConfig
} from '../src/config.js'

const PRODUCTION_REQUIRED = {
  NODE_ENV: 'production',
  WEBHOOK_SECRETS: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  OPERATOR_API_KEY: 'a-long-enough-operator-key',
  PIPEDRIVE_API_TOKEN: 'company-token'
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

t.test('defaults: every documented variable', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    PORT: 3000,
    HOST: '0.0.0.0',
    DATA_DIR: './.data',
    PIPEDRIVE_BASE_URL: 'https://api.pipedrive.com',
    WARM_LEAD_THRESHOLD: 4,
    WARM_LEAD_LABEL: 'Warm Lead',
    PIPEDRIVE_RATE_LIMIT: 100,
    PIPEDRIVE_RATE_WINDOW_MS: 10_000,
    PIPEDRIVE_SEARCH_RATE_LIMIT: 10,
    PIPEDRIVE_SEARCH_RATE_WINDOW_MS: 2_000,
    OPERATOR_RATE_LIMIT: 10,
    SYNC_RETRY_BASE_MS: 1_000,
    SYNC_BACKOFF_BASE_MS: 30_000,
    SYNC_BACKOFF_MAX_MS: 3_600_000,
    SYNC_MAX_ATTEMPTS: 10,
    JOB_LEASE_MS: 30_000,
    LOG_LEVEL: 'info',
    MIGRATE_ON_START: true,
    production: false
  })
  t.equal(config.DATABASE_URL, undefined, 'no DATABASE_URL: embedded PGlite')
  t.equal(config.PIPEDRIVE_API_TOKEN, undefined, 'no token: the sandbox')
  t.equal(config.CRM_CALLBACK_URL, undefined)
})

t.test('outside production, missing secrets get the documented development values', async (t) => {
  const config = loadConfig({ NODE_ENV: 'development' })
  t.equal(config.WEBHOOK_SECRETS, DEVELOPMENT_WEBHOOK_SECRET)
  t.equal(config.OPERATOR_API_KEY, DEVELOPMENT_OPERATOR_API_KEY)
  t.same(
    config.developmentDefaults.map((d) => d.name),
    ['WEBHOOK_SECRETS', 'OPERATOR_API_KEY']
  )
  t.equal(config.webhookKeys.length, 1)
  const configured = loadConfig({ WEBHOOK_SECRETS: PRODUCTION_REQUIRED.WEBHOOK_SECRETS })
  t.same(
    configured.developmentDefaults.map((d) => d.name),
    ['OPERATOR_API_KEY'],
    'a configured secret is kept'
  )
})

t.test('strings are converted to numbers; blanks count as unset', async (t) => {
  const config = loadConfig({ PORT: '8080', WARM_LEAD_THRESHOLD: '3.5', SYNC_MAX_ATTEMPTS: '3', HOST: '  ' })
  t.equal(config.PORT, 8080)
  t.equal(config.WARM_LEAD_THRESHOLD, 3.5)
  t.equal(config.SYNC_MAX_ATTEMPTS, 3)
  t.equal(config.HOST, '0.0.0.0')
})

t.test(
  'MIGRATE_ON_START: true by default, in production too; false opts out; anything else is refused',
  async (t) => {
    t.equal(loadConfig(PRODUCTION_REQUIRED).MIGRATE_ON_START, true)
    t.equal(loadConfig({ ...PRODUCTION_REQUIRED, MIGRATE_ON_START: 'false' }).MIGRATE_ON_START, false)
    t.equal(loadConfig({ MIGRATE_ON_START: 'true' }).MIGRATE_ON_START, true)
    t.same(problemsOf({ MIGRATE_ON_START: 'later' }), ['MIGRATE_ON_START: must be true or false'])
  }
)

t.test('several webhook secrets are decoded in order (rotation)', async (t) => {
  const config = loadConfig({
    WEBHOOK_SECRETS:
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_cm90YXRpb24tc2VjcmV0LWZvci10ZXN0cy0wMDAwMDE='
  })
  t.equal(config.webhookKeys.length, 2)
  t.equal(config.webhookKeys[1]?.toString(), 'rotation-secret-for-tests-000001')
})

t.test('production: every missing required value is listed in one error', async (t) => {
  const problems = problemsOf({ NODE_ENV: 'production' })
  t.same(problems, [
    'WEBHOOK_SECRETS: required when NODE_ENV=production',
    'OPERATOR_API_KEY: required when NODE_ENV=production',
    'PIPEDRIVE_API_TOKEN: required when NODE_ENV=production'
  ])
  t.same(problemsOf(PRODUCTION_REQUIRED), [], 'complete production configuration is accepted')
  t.equal(
    loadConfig(PRODUCTION_REQUIRED).developmentDefaults.length,
    0,
    'no development values in production'
  )
})

t.test('malformed values are all reported, by name, without echoing them', async (t) => {
  const env = {
    ...PRODUCTION_REQUIRED,
    PORT: 'eighty',
    DATABASE_URL: 'mysql://db/x',
    WEBHOOK_SECRETS: 'not-a-secret,whsec_!!!',
    PIPEDRIVE_BASE_URL: 'ftp://example.com',
    WARM_LEAD_THRESHOLD: '-1',
    PIPEDRIVE_RATE_LIMIT: '0',
    JOB_LEASE_MS: '1.5',
    LOG_LEVEL: 'loud',
    TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=',
    CRM_CALLBACK_URL: 'https://crm.example/hooks',
    SYNC_BACKOFF_BASE_MS: '5000',
    SYNC_BACKOFF_MAX_MS: '1000'
  }
  const problems = problemsOf(env)
  const named = problems.map((p) => p.split(':')[0])
  t.same(named.sort(), [
    'CRM_CALLBACK_SECRET',
    'DATABASE_URL',
    'JOB_LEASE_MS',
    'LOG_LEVEL',
    'PIPEDRIVE_BASE_URL',
    'PIPEDRIVE_RATE_LIMIT',
    'PORT',
    'SYNC_BACKOFF_MAX_MS',
    'TOKEN_ENCRYPTION_KEY',
    'WARM_LEAD_THRESHOLD',
    'WEBHOOK_SECRETS',
    'WEBHOOK_SECRETS'
  ])
  const message = new ConfigError(problems).message
  t.notMatch(message, /not-a-secret|whsec_!!!|c2hvcnQ=/, 'secret values are not echoed')
  t.match(message, /WEBHOOK_SECRETS: entry 1 is not of the form whsec_<base64>/)
  t.match(message, /LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/)
})

t.test('a valid encryption key and callback configuration are accepted', async (t) => {
  const config = loadConfig({
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    CRM_CALLBACK_URL: 'http://127.0.0.1:4000/callbacks',
    CRM_CALLBACK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  })
  t.same(config.tokenEncryptionKeys, [Buffer.alloc(32, 7)], 'one key: a list of one')
  t.equal(config.CRM_CALLBACK_URL, 'http://127.0.0.1:4000/callbacks')
})

t.test(
  'TOKEN_ENCRYPTION_KEYS: the first key encrypts, all decrypt; entries checked one by one',
  async (t) => {
    const current = Buffer.alloc(32, 1)
    const old = Buffer.alloc(32, 2)
    const config = loadConfig({
      TOKEN_ENCRYPTION_KEYS: ` ${current.toString('base64')} , ${old.toString('base64')}`
    })
    t.same(config.tokenEncryptionKeys, [current, old], 'in the order given')
    t.same(loadConfig({}).tokenEncryptionKeys, [], 'none configured')

    const problems = problemsOf({
      TOKEN_ENCRYPTION_KEYS: `${current.toString('base64')},c2hvcnQ=,,not base64!`
    })
    t.same(problems, [
      'TOKEN_ENCRYPTION_KEYS: entry 2 must be 32 bytes encoded in base64',
      'TOKEN_ENCRYPTION_KEYS: entry 3 must be 32 bytes encoded in base64',
      'TOKEN_ENCRYPTION_KEYS: entry 4 must be 32 bytes encoded in base64'
    ])
    t.notMatch(new ConfigError(problems).message, /c2hvcnQ=|not base64|AQEB/, 'no key is echoed')
  }
)

t.test('TOKEN_ENCRYPTION_KEY and TOKEN_ENCRYPTION_KEYS together: refused at start', async (t) => {
  const key = Buffer.alloc(32, 3).toString('base64')
  const problems = problemsOf({ TOKEN_ENCRYPTION_KEY: key, TOKEN_ENCRYPTION_KEYS: key })
  t.equal(problems.length, 1)
  t.match(
    problems[0],
    /^TOKEN_ENCRYPTION_KEYS: set either TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEYS, not both/
  )
  t.notMatch(problems[0], key)
})
