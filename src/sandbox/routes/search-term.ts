import { SandboxHttpError } from '../http-error.js'

/** v2 search rules: a term is required; without exact_match it needs at least 2 characters. */
export function searchTerm(query: { term?: string; exact_match?: string }): { term: string; exact: boolean } {
  const term = query.term?.trim().toLowerCase() ?? ''
  const exact = query.exact_match === 'true' || query.exact_match === '1'
  if (term.length < (exact ? 1 : 2))
    throw new SandboxHttpError(400, 'term must be at least 2 characters long')
  return { term, exact }
}
