/** CRM events as the benchmarks send them: unique ids per run, owned by the sandbox's admin user. */
export const OWNER = { id: 'u_bench_owner', email: 'owner@crm.example', name: 'Olive Owner' }

export interface ContactSpec {
  id: string
  score: number
  /** Organization id and name; the same id again is a "known org" once the first is synced. */
  org?: { id: string; name: string }
}

export function contactEvent(spec: ContactSpec) {
  const now = new Date().toISOString()
  return {
    type: 'contact.updated',
    timestamp: now,
    data: {
      id: spec.id,
      name: `Bench ${spec.id}`,
      email: `${spec.id}@bench.example`,
      phone: '+44 20 7946 0000',
      warmnessScore: spec.score,
      ...(spec.org
        ? { organization: { id: spec.org.id, name: spec.org.name, industry: 'Computing', country: 'GB' } }
        : {}),
      owner: OWNER,
      updatedAt: now
    }
  }
}

export function activityEvent(id: string, contactId: string) {
  const now = new Date().toISOString()
  return {
    type: 'activity.created',
    timestamp: now,
    data: {
      id,
      contactId,
      type: 'CALL',
      // Unique per activity so the sandbox log can be attributed to it.
      subject: `Call ${id}`,
      dueAt: '2026-11-26T15:30:00+01:00',
      durationMinutes: 30,
      done: false,
      owner: null,
      createdAt: now
    }
  }
}
