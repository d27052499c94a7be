import { randomBytes } from 'node:crypto'
import type { Child } from '../harness/processes.js'
import { HARNESS_OPERATOR_KEY, HARNESS_SECRET } from '../harness/service-process.js'
import { onSignature } from '../harness/signed-client.js'

/**
 * What the whole run shares: where PostgreSQL is, and everything the log audit (scenario g)
 * needs — every service process's output and every credential or signature that must never
 * appear in it.
 */
export class Suite {
  readonly adminUrl: string
  /** A fresh callback secret per run: nothing fixed to leak from the repository. */
  readonly callbackSecret = `whsec_${randomBytes(24).toString('base64')}`
  readonly serviceLogs: Array<{ label: string; process: Child }> = []
  /** Credentials by what they are: the webhook secret, the operator key, tokens. */
  readonly secrets = new Map<string, string>()
  /** Base64 signatures sent to the intake or by the service (callbacks). */
  readonly signatures = new Set<string>()
  readonly #stopListening: () => void

  constructor(adminUrl: string) {
    this.adminUrl = adminUrl
    this.secrets.set('WEBHOOK_SECRETS (whole)', HARNESS_SECRET)
    this.secrets.set('WEBHOOK_SECRETS (base64 key)', HARNESS_SECRET.slice('whsec_'.length))
    this.secrets.set('OPERATOR_API_KEY', HARNESS_OPERATOR_KEY)
    this.secrets.set('CRM_CALLBACK_SECRET (base64 key)', this.callbackSecret.slice('whsec_'.length))
    this.#stopListening = onSignature((signature) => this.signatures.add(signature))
  }

  addServiceLog(label: string, process: Child): void {
    this.serviceLogs.push({ label, process })
  }

  close(): void {
    this.#stopListening()
  }
}
