import { FormatRegistry } from '@sinclair/typebox'
import { DATE_ONLY, DATE_TIME } from './date-patterns.js'

// A fraction with a digit other than 0.
const NONZERO_FRACTION = /\.\d*[1-9]/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const MAX_EMAIL_LENGTH = 254

// PostgreSQL has no year 0 (1 BC) and no UTC offset beyond ±15:59: a timestamptz column refuses them.
const MAX_OFFSET_HOURS = 15

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

export function isDate(value: string): boolean {
  const m = DATE_ONLY.exec(value)
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value)
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) return false
  // A leap second is stored as the next minute; a fraction of it would pass midnight's last second.
  if (Number(m[6]) === 60 && NONZERO_FRACTION.test(value)) return false
  return m[7] === undefined || (Number(m[8]) <= MAX_OFFSET_HOURS && Number(m[9]) <= 59)
}

export function isEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value)
}

FormatRegistry.Set('date', isDate)
FormatRegistry.Set('date-time', isDateTime)
FormatRegistry.Set('email', isEmail)
