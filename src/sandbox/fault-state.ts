import { type Faults, matches } from './faults.js'

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'fail'; status: number; message: string; html: boolean; retryAfterSeconds: number | undefined }
  | { kind: 'drop'; when: 'before' | 'after' }

/** The faults in force; `failNext`/`dropNext` count down as matching requests use them up. */
export class FaultState {
  current: Faults = {}

  set(faults: Faults): void {
    this.current = structuredClone(faults)
  }

  clear(): void {
    this.current = {}
  }

  /** Decides (and consumes) what happens to one authenticated, admitted request. */
  take(method: string, path: string): FaultDecision {
    const { failNext, dropNext } = this.current
    if (failNext && matches(failNext, method, path)) {
      failNext.count -= 1
      if (failNext.count <= 0) delete this.current.failNext
      return {
        kind: 'fail',
        status: failNext.status,
        message: failNext.message ?? 'Injected failure',
        html: failNext.html ?? false,
        retryAfterSeconds: failNext.retryAfterSeconds
      }
    }
    if (dropNext && matches(dropNext, method, path)) {
      dropNext.count -= 1
      if (dropNext.count <= 0) delete this.current.dropNext
      return { kind: 'drop', when: dropNext.when ?? 'before' }
    }
    return { kind: 'none' }
  }
}
