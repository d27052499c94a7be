import { readFileSync } from 'node:fs'

/**
 * The NODE_OPTIONS the Dockerfile's runtime image sets, read from it, so every benchmark runs the
 * service with the V8 settings production has (and a change to the image is measured at once).
 */
export function productionNodeOptions(): string {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8')
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
  const match = /NODE_OPTIONS="([^"]*)"/.exec(runtime)
  if (!match) throw new Error('the Dockerfile runtime stage sets no NODE_OPTIONS')
  return match[1] as string
}
