import { emptyResult, type ScenarioResult } from '../result.js'
import type { Suite } from '../suite.js'

// Standard Webhooks signatures are base64 HMAC-SHA256: 43 characters and one "=".
const SIGNATURE_LIKE = /[A-Za-z0-9+/]{43}=/g

/**
 * (g) The whole output of every service process started by the run (killed ones included) holds
 * no credential: the webhook secret (whole or its base64 key), the operator key, any sandbox
 * token, the callback secret, and none of the signatures sent to the service or by it.
 * Runs last, over what the other scenarios produced.
 */
export async function logSecrets(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('g. no secret in any service log')
  const start = performance.now()
  const signatures = suite.signatures
  let bytes = 0
  const leaks: string[] = []
  for (const { label, process } of suite.serviceLogs) {
    const output = process.output()
    bytes += output.length
    for (const [what, secret] of suite.secrets) if (output.includes(secret)) leaks.push(`${label}: ${what}`)
    for (const match of output.matchAll(SIGNATURE_LIKE))
      if (signatures.has(match[0])) leaks.push(`${label}: signature ${match[0].slice(0, 8)}…`)
    // Signatures that are not 44 characters (forged ones of other lengths): a plain search.
    for (const signature of signatures)
      if (signature.length !== 44 && output.includes(signature))
        leaks.push(`${label}: signature ${signature.slice(0, 8)}…`)
  }
  if (suite.serviceLogs.length === 0) result.failures.push('no service output was captured')
  if (leaks.length > 0) result.failures.push(`${leaks.length} leaks: ${leaks.slice(0, 5).join('; ')}`)
  result.events = suite.serviceLogs.length
  result.elapsedMs = performance.now() - start
  result.other = `${suite.serviceLogs.length} processes, ${(bytes / 1e6).toFixed(1)} MB of logs; ${suite.secrets.size} secrets and ${signatures.size} signatures searched; leaks: ${leaks.length}`
  return result
}
