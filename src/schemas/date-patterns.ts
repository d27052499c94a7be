/**
 * The shapes of dates and date-times the intake accepts (docs/interface.md) and the activity sync
 * converts for Pipedrive: one definition, so what is accepted is what can be converted.
 */

/** `YYYY-MM-DD`; groups: year, month, day. */
export const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * RFC 3339 with a mandatory offset: a time without one is ambiguous and refused. Groups: year,
 * month, day, hour, minute, second, then the offset's sign, hours and minutes (none for `Z`).
 */
export const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/
