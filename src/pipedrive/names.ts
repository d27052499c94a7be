/** How Pipedrive's `exact_match` compares (ignoring case); we re-check its results the same way. */
export function sameText(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase()
}
