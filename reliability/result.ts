/** One row of the final table; `failures` empty means every guarantee of the scenario held. */
export interface ScenarioResult {
  scenario: string
  /** Distinct events (webhook-ids) the scenario meant to deliver. */
  events: number
  /** HTTP requests sent to the intake (redeliveries and resends included). */
  sent: number
  ok2xx: number
  c4xx: number
  c5xx: number
  /** Requests that got no answer at all (connection refused or reset). */
  noAnswer: number
  lost: number
  duplicated: number
  elapsedMs: number
  other: string
  failures: string[]
}

export function emptyResult(scenario: string): ScenarioResult {
  return {
    scenario,
    events: 0,
    sent: 0,
    ok2xx: 0,
    c4xx: 0,
    c5xx: 0,
    noAnswer: 0,
    lost: 0,
    duplicated: 0,
    elapsedMs: 0,
    other: '',
    failures: []
  }
}

const COLUMNS: Array<[string, (row: ScenarioResult) => string]> = [
  ['scenario', (row) => row.scenario],
  ['events', (row) => String(row.events)],
  ['sent', (row) => String(row.sent)],
  ['2xx', (row) => String(row.ok2xx)],
  ['4xx', (row) => String(row.c4xx)],
  ['5xx', (row) => String(row.c5xx)],
  ['no answer', (row) => String(row.noAnswer)],
  ['lost', (row) => String(row.lost)],
  ['duplicated', (row) => String(row.duplicated)],
  ['time', (row) => `${(row.elapsedMs / 1000).toFixed(1)} s`],
  ['other', (row) => row.other],
  ['result', (row) => (row.failures.length === 0 ? 'pass' : 'FAIL')]
]

/** A Markdown table, so the output can be pasted into docs/reliability.md as it is. */
export function formatTable(rows: ScenarioResult[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, value]) => value(row)))
  const widths = COLUMNS.map(([title], index) =>
    Math.max(title.length, ...cells.map((line) => (line[index] ?? '').length))
  )
  const line = (values: string[]) =>
    `| ${values.map((value, index) => value.padEnd(widths[index] ?? 0)).join(' | ')} |`
  return [
    line(COLUMNS.map(([title]) => title)),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...cells.map(line)
  ].join('\n')
}
