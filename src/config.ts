import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const HTTP_URL = '^https?://[^\\s]+$'
const HTTP_URL_RULE = 'must be an http:// or https:// URL'
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Every variable of docs/configuration.md, with its default. Values arrive as strings and are converted. */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^postgres(ql)?://', description: 'must be a postgres:// or postgresql:// URL' })
  ),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  /** false: migrations are left to a release step running `npm run migrate`. */
  MIGRATE_ON_START: Type.Boolean({ default: true, description: 'must be true or false' }),
  WEBHOOK_SECRETS: Type.Optional(Type.String({ minLength: 1 })),
  OPERATOR_API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  PIPEDRIVE_API_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  PIPEDRIVE_BASE_URL: Type.String({
    pattern: HTTP_URL,
    description: HTTP_URL_RULE,
    default: 'https://api.pipedrive.com'
  }),
  WARM_LEAD_THRESHOLD: Type.Number({ minimum: 0, default: 4 }),
  WARM_LEAD_LABEL: Type.String({ minLength: 1, maxLength: 255, default: 'Warm Lead' }),
  PIPEDRIVE_RATE_LIMIT: Type.Integer({ minimum: 1, default: 100 }),
  PIPEDRIVE_RATE_WINDOW_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  PIPEDRIVE_SEARCH_RATE_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  PIPEDRIVE_SEARCH_RATE_WINDOW_MS: Type.Integer({ minimum: 1, default: 2_000 }),
  /** true: a `contact.deleted` also deletes the contact's Pipedrive person. */
  PIPEDRIVE_DELETE_PERSONS: Type.Boolean({ default: false, description: 'must be true or false' }),
  OPERATOR_RATE_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  SYNC_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 1_000 }),
  SYNC_BACKOFF_BASE_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  SYNC_BACKOFF_MAX_MS: Type.Integer({ minimum: 0, default: 3_600_000 }),
  SYNC_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 10 }),
  JOB_LEASE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  CRM_CALLBACK_URL: Type.Optional(Type.String({ pattern: HTTP_URL, description: HTTP_URL_RULE })),
  CRM_CALLBACK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  TOKEN_ENCRYPTION_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Key rotation: comma-separated, the first encrypts, every one decrypts. */
  TOKEN_ENCRYPTION_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  /** Finished jobs, inbox rows and delivered callbacks older than this are deleted (an addition to the documented variables). */
  RETENTION_DAYS: Type.Number({ minimum: 1, default: 14 }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', description: `must be one of ${LOG_LEVELS.join(', ')}` }
  )
})

export type Env = Static<typeof EnvSchema>

export interface Config extends Env {
  production: boolean
  /** HMAC keys decoded from WEBHOOK_SECRETS, in the order given. */
  webhookKeys: Buffer[]
  /**
   * Decoded TOKEN_ENCRYPTION_KEYS (or TOKEN_ENCRYPTION_KEY, a list of one): the first encrypts,
   * every one decrypts. Empty when neither is set.
   */
  tokenEncryptionKeys: Buffer[]
  /** Variables that got a development value because they were unset (never in production). */
  developmentDefaults: Array<{ name: string; value: string }>
}

/**
 * Fixed development values, documented in docs/configuration.md so that the README's examples work as written.
 * They are refused in production by construction: production requires the real variables.
 */
export const DEVELOPMENT_WEBHOOK_SECRET = 'whsec_ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLXNlY3JldCE='
export const DEVELOPMENT_OPERATOR_API_KEY = 'dev-operator-key-change-me'

const REQUIRED_IN_PRODUCTION = ['WEBHOOK_SECRETS', 'OPERATOR_API_KEY', 'PIPEDRIVE_API_TOKEN'] as const

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Decodes a Standard Webhooks secret (`whsec_<base64>`) to its HMAC key, or undefined if malformed. */
export function decodeWebhookSecret(secret: string): Buffer | undefined {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)
  if (!match?.[1]) return undefined
  const key = Buffer.from(match[1], 'base64')
  return key.length > 0 ? key : undefined
}

function decodeEncryptionKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined
  const key = Buffer.from(value, 'base64')
  return key.length === 32 ? key : undefined
}

/**
 * Both variables at once is refused: which one wins would be a guess, and a rotation that left the
 * old variable behind could keep encrypting with the old key.
 */
function decodeEncryptionKeys(env: Env, problems: string[]): Buffer[] {
  const { TOKEN_ENCRYPTION_KEY: single, TOKEN_ENCRYPTION_KEYS: list } = env
  if (typeof single === 'string' && typeof list === 'string') {
    problems.push(
      'TOKEN_ENCRYPTION_KEYS: set either TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEYS, not both (the list takes the current key first, then the older ones)'
    )
    return []
  }
  if (typeof single === 'string') {
    const key = decodeEncryptionKey(single)
    if (key) return [key]
    problems.push('TOKEN_ENCRYPTION_KEY: must be 32 bytes encoded in base64')
    return []
  }
  if (typeof list !== 'string') return []
  const keys: Buffer[] = []
  for (const [index, entry] of list.split(',').entries()) {
    const key = decodeEncryptionKey(entry.trim())
    if (key) keys.push(key)
    else problems.push(`TOKEN_ENCRYPTION_KEYS: entry ${index + 1} must be 32 bytes encoded in base64`)
  }
  return keys
}

/**
 * Reads the environment into a typed configuration. Every problem is collected so one message
 * lists them all; values are never echoed back (they may be secrets).
 */
export function loadConfig(source: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const raw: Record<string, unknown> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = source[name]
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim()
  }
  const production = raw.NODE_ENV === 'production'
  const problems: string[] = []
  const developmentDefaults: Config['developmentDefaults'] = []

  for (const name of REQUIRED_IN_PRODUCTION) {
    if (raw[name] !== undefined) continue
    if (production) problems.push(`${name}: required when NODE_ENV=production`)
    else if (name === 'WEBHOOK_SECRETS') {
      raw[name] = DEVELOPMENT_WEBHOOK_SECRET
      developmentDefaults.push({ name, value: DEVELOPMENT_WEBHOOK_SECRET })
    } else if (name === 'OPERATOR_API_KEY') {
      raw[name] = DEVELOPMENT_OPERATOR_API_KEY
      developmentDefaults.push({ name, value: DEVELOPMENT_OPERATOR_API_KEY })
    }
  }

  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw)) as Env
  for (const error of Value.Errors(EnvSchema, env)) {
    const name = error.path.replace(/^\//, '')
    problems.push(`${name}: ${describe(error.schema, error.message)}`)
  }

  const webhookKeys: Buffer[] = []
  if (typeof env.WEBHOOK_SECRETS === 'string') {
    for (const [index, secret] of env.WEBHOOK_SECRETS.split(',').entries()) {
      const key = decodeWebhookSecret(secret.trim())
      if (key) webhookKeys.push(key)
      else problems.push(`WEBHOOK_SECRETS: entry ${index + 1} is not of the form whsec_<base64>`)
    }
  }
  const tokenEncryptionKeys = decodeEncryptionKeys(env, problems)
  if (env.CRM_CALLBACK_URL !== undefined) {
    if (env.CRM_CALLBACK_SECRET === undefined) {
      problems.push('CRM_CALLBACK_SECRET: required when CRM_CALLBACK_URL is set')
    } else if (!decodeWebhookSecret(env.CRM_CALLBACK_SECRET)) {
      problems.push('CRM_CALLBACK_SECRET: not of the form whsec_<base64>')
    }
  }
  if (
    typeof env.SYNC_BACKOFF_MAX_MS === 'number' &&
    typeof env.SYNC_BACKOFF_BASE_MS === 'number' &&
    env.SYNC_BACKOFF_MAX_MS < env.SYNC_BACKOFF_BASE_MS
  ) {
    problems.push('SYNC_BACKOFF_MAX_MS: must not be smaller than SYNC_BACKOFF_BASE_MS')
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    ...env,
    production,
    webhookKeys,
    tokenEncryptionKeys,
    developmentDefaults
  }
}

function describe(schema: { description?: unknown }, message: string): string {
  return typeof schema.description === 'string' ? schema.description : message
}
