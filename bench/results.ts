import { writeFileSync } from 'node:fs'

/** One benchmark goal with its measured value; `met` is computed, never typed in. */
export interface GoalResult {
  name: string
  value: number
  unit: string
  goal: string
  met: boolean
  /** Context for the reader (not compared): the figures the value came from. */
  detail?: string
}

export const atMost = (name: string, value: number, unit: string, limit: number, detail?: string) =>
  goal(name, value, unit, `≤ ${limit} ${unit}`, value <= limit, detail)

export const atLeast = (name: string, value: number, unit: string, floor: number, detail?: string) =>
  goal(name, value, unit, `≥ ${floor} ${unit}`, value >= floor, detail)

/** A figure reported without a goal (e.g. PGlite start): always "met". */
export const info = (name: string, value: number, unit: string, detail?: string) =>
  goal(name, value, unit, 'report only', true, detail)

function goal(name: string, value: number, unit: string, text: string, met: boolean, detail?: string) {
  return { name, value: round(value), unit, goal: text, met, ...(detail ? { detail } : {}) }
}

const round = (value: number) => Math.round(value * 100) / 100

export function printTable(results: GoalResult[]): void {
  const rows = [
    ['benchmark', 'value', 'goal', 'met'],
    ...results.map((r) => [r.name, `${r.value} ${r.unit}`, r.goal, r.met ? 'yes' : 'NO'])
  ]
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`
  console.log(line(rows[0] ?? []))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const row of rows.slice(1)) console.log(line(row))
  for (const r of results) if (r.detail) console.log(`  ${r.name}: ${r.detail}`)
}

export function writeResults(path: URL, results: GoalResult[], context: Record<string, unknown>): void {
  writeFileSync(path, `${JSON.stringify({ ...context, results }, null, 2)}\n`)
}
