import { readFileSync } from 'node:fs'

const KIB_PER_MB = 1024

/**
 * Peak resident set of a live process in MB (Linux `VmHWM`: the kernel's own high-water mark,
 * so no sample can miss a short spike). Read it before the process exits.
 */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) throw new Error('process has no pid')
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status)
  if (!match?.[1]) throw new Error(`no VmHWM for pid ${pid}`)
  return Number(match[1]) / KIB_PER_MB
}
