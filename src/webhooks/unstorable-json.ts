/**
 * What a body may hold that JSON.parse accepts but PostgreSQL's text and jsonb cannot store: such a
 * body is bad input (400, naming where), found here before it reaches the database.
 */

/** Deeper bodies are refused: no event nests like this, and the database's own JSON parser has a limit. */
export const MAX_NESTING_DEPTH = 64
/**
 * jsonb keeps numbers as `numeric`, which overflows past 131,072 digits before the point or
 * 16,383 after it (an exponent counts as digits). Limits far inside those, that no event needs.
 */
export const MAX_NUMBER_DIGITS = 1_000
export const MAX_NUMBER_EXPONENT = 1_000

const BRACE = 123
const BRACKET = 91
const QUOTE = 34
const BACKSLASH = 92
const MINUS = 45
const COMMA = 44
const CLOSE_BRACE = 125
const CLOSE_BRACKET = 93

function unstorable(text: string): boolean {
  return text.includes('\0') || !text.isWellFormed()
}

const joinPath = (path: string, key: string) => (path === 'body' ? key : `${path}.${key}`)

/**
 * NUL and lone surrogates, in values or in keys, and nesting deeper than MAX_NESTING_DEPTH.
 * Walked with an explicit stack, so a deep body cannot overflow the call stack.
 */
function findUnstorableValue(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: 'body', depth: 0 }]
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const { value: current, path, depth } = entry
    if (typeof current === 'string') {
      if (unstorable(current)) return `${path}: NUL or unpaired surrogate in string`
      continue
    }
    if (current === null || typeof current !== 'object') continue
    if (depth >= MAX_NESTING_DEPTH) return `${path}: nested deeper than ${MAX_NESTING_DEPTH} levels`
    for (const [key, child] of Object.entries(current)) {
      if (unstorable(key)) return `${path}: NUL or unpaired surrogate in a key`
      stack.push({ value: child, path: joinPath(path, key), depth: depth + 1 })
    }
  }
  return undefined
}

/** Counts brackets (in strings too: an over-count only costs the walk) to skip it for ordinary bodies. */
function mayNestDeeply(text: string): boolean {
  let open = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if ((code === BRACE || code === BRACKET) && ++open >= MAX_NESTING_DEPTH) return true
  }
  return false
}

// Valid JSON only reaches the scan below, so a number token always matches from its first character.
const NUMBER = /-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?/y
const MAY_HOLD_LONG_NUMBER = new RegExp(
  `\\d{${MAX_NUMBER_DIGITS + 1}}|[eE][+-]?\\d{${String(MAX_NUMBER_EXPONENT).length}}`
)

interface Frame {
  key: string | undefined
  index: number | undefined
}

/**
 * Numbers are gone from the parsed value (JSON.parse rounds them): the text is scanned, keeping
 * the path to the number so that the answer can name its field. `text` is valid JSON.
 */
function findUnstorableNumber(text: string): string | undefined {
  const frames: Frame[] = []
  let expectingKey = false
  const path = () =>
    frames.reduce((at, frame) => joinPath(at, frame.key ?? String(frame.index ?? '')), 'body')
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === QUOTE) {
      const start = i
      for (i++; text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++
      const top = frames.at(-1)
      if (expectingKey && top) top.key = JSON.parse(text.slice(start, i + 1)) as string
      expectingKey = false
    } else if (code === BRACE) {
      frames.push({ key: undefined, index: undefined })
      expectingKey = true
    } else if (code === BRACKET) {
      frames.push({ key: undefined, index: 0 })
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      frames.pop()
    } else if (code === COMMA) {
      const top = frames.at(-1)
      if (top?.index !== undefined) top.index++
      else expectingKey = true
    } else if (code === MINUS || (code >= 48 && code <= 57)) {
      NUMBER.lastIndex = i
      const [token = '', integer = '', fraction = '', exponent = '0'] = NUMBER.exec(text) ?? []
      if (
        integer.length > MAX_NUMBER_DIGITS ||
        fraction.length > MAX_NUMBER_DIGITS ||
        Math.abs(Number(exponent)) > MAX_NUMBER_EXPONENT
      ) {
        return `${path()}: a number of more than ${MAX_NUMBER_DIGITS} digits or with an exponent beyond ±${MAX_NUMBER_EXPONENT} cannot be stored`
      }
      i += token.length - 1
    }
  }
  return undefined
}

/**
 * The first thing in the body the database cannot store, as `path: problem`, or undefined. Only
 * escapes produce NUL or lone surrogates, only many brackets deep nesting and only long digit runs
 * or exponents such numbers: the walks are skipped for nearly every event.
 */
export function findUnstorable(text: string, value: unknown): string | undefined {
  const walk = text.includes('\\u') || mayNestDeeply(text) ? findUnstorableValue(value) : undefined
  return walk ?? (MAY_HOLD_LONG_NUMBER.test(text) ? findUnstorableNumber(text) : undefined)
}
