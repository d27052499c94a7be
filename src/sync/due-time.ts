/**
 * Dates and times as Pipedrive wants them (docs/pipedrive.md): `due_date` YYYY-MM-DD
 * and `due_time` HH:MM, both in UTC, and `duration` HH:MM.
 */
import { DATE_ONLY, DATE_TIME } from '../schemas/date-patterns.js'

export interface PipedriveDue {
  dueDate?: string
  dueTime?: string
}

export class InvalidDueAtError extends Error {
  constructor(value: string) {
    super(`dueAt "${value}" is neither a date nor a date-time with an offset`)
    this.name = 'InvalidDueAtError'
  }
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0')

/**
 * `dueAt` as received → UTC date and time. A date alone stays a date (an all-day activity: no
 * time, and no shift to UTC, which would move it to another day). Seconds are dropped, not
 * rounded: Pipedrive keeps minutes, and rounding 23:59:40 up would change the date.
 */
export function pipedriveDue(dueAt: string | null): PipedriveDue {
  if (dueAt === null) return {}
  if (DATE_ONLY.test(dueAt)) return { dueDate: dueAt }
  const m = DATE_TIME.exec(dueAt)
  if (!m) throw new InvalidDueAtError(dueAt)
  const [, year, month, day, hour, minute, second, sign, offsetHours, offsetMinutes] = m
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) : 0
  // setUTC* rather than Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const utc = new Date(0)
  utc.setUTCFullYear(Number(year), Number(month) - 1, Number(day))
  // A leap second (:60) rolls over into the next minute, as the instant it names does.
  utc.setUTCHours(Number(hour), Number(minute) - offset, Number(second))
  return {
    dueDate: `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`,
    dueTime: `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}`
  }
}

/** Minutes → HH:MM; hours are not capped at 24 (a two-day conference is 48:00). */
export function pipedriveDuration(minutes: number | null): string | undefined {
  if (minutes === null) return undefined
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
}
