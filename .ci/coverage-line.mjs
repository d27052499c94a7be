// Prints one line from tap's own coverage report (.tap/report/coverage-summary.json, json-summary):
// the totals, then the src/ files no test loaded, which the report leaves out instead of counting
// them as uncovered, and the line figure when they are counted. Exits 1 when the figure cannot be
// trusted: a file outside src/ in the report, or a source map recorded without its TypeScript
// source (tap then maps the whole file onto one line; see test/coverage/map.js).
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const [label, summaryPath = '.tap/report/coverage-summary.json', rawDir = '.tap/coverage'] = process.argv.slice(2)
const summary = JSON.parse(readFileSync(summaryPath, 'utf8'))
const sources = readdirSync('src', { recursive: true })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => resolve(join('src', file)))
const reported = Object.keys(summary).filter((key) => key !== 'total')
const outside = reported.filter((file) => !sources.includes(file))
const unloaded = sources.filter((file) => !reported.includes(file))
const lineCount = (file) => readFileSync(file, 'utf8').replace(/\n$/, '').split('\n').length
const unloadedLines = unloaded.reduce((total, file) => total + lineCount(file), 0)
const { lines } = summary.total
const withoutSource = new Set()
for (const name of readdirSync(rawDir)) {
  const raw = JSON.parse(readFileSync(join(rawDir, name), 'utf8'))
  for (const [url, entry] of Object.entries(raw['source-map-cache'] ?? {}))
    if (!entry.data?.sourcesContent?.every((source) => typeof source === 'string')) withoutSource.add(url)
}

const figures = ['lines', 'branches', 'functions', 'statements'].map(
  (kind) => `${kind} ${summary.total[kind].pct} %`
)
let line = `coverage (${label} run): ${figures.join(', ')} over the ${reported.length} of ${sources.length} src/ files the tests load`
if (unloaded.length > 0) {
  const counted = ((100 * lines.covered) / (lines.total + unloadedLines)).toFixed(2)
  const names = unloaded.map((file) => relative('src', file)).join(', ')
  line += `; never loaded: ${names} (${unloadedLines} lines; lines ${counted} % counting them)`
}
if (outside.length > 0) line += `; NOT src/, should not be in the report: ${outside.join(', ')}`
if (withoutSource.size > 0) line += `; NOT mapped to their lines (no source in the source map): ${[...withoutSource].join(', ')}`
console.log(line)
if (outside.length > 0 || withoutSource.size > 0) process.exitCode = 1
