/** An error answer in Pipedrive's envelope; thrown by the store and the routes, sent by the server. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
    this.name = 'SandboxHttpError'
  }
}

export function envelopeError(message: string) {
  return { success: false, error: message, error_info: 'Please check developers.pipedrive.com', data: null }
}
