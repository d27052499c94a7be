/**
 * The limits of the Standard Webhooks headers (docs/interface.md): checked by src/webhooks/verify.ts,
 * documented by the headers schema of `POST /webhooks/crm`.
 */
export const TIMESTAMP_TOLERANCE_SECONDS = 300
export const MAX_WEBHOOK_ID_LENGTH = 256
