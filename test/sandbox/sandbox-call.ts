import type { Sandbox } from '../../src/sandbox/server.js'

export interface SandboxAnswer {
  status: number
  headers: Headers
  json: Record<string, unknown>
}

/** One raw HTTP request to the sandbox (the admin's token unless told otherwise). */
export async function callSandbox(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = sandbox.token
): Promise<SandboxAnswer> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      ...(token ? { 'x-api-token': token } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: response.status, headers: response.headers, json: json as Record<string, unknown> }
}
