/**
 * Serialises a create that must happen once across every token and instance (a person label is
 * the company's, whichever token asks): `work` runs while its caller holds the named lease, and
 * `signal` aborts when the lease is lost.
 */
export interface CreateCoordinator {
  exclusive<T>(name: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>
}

/** No coordination beyond the account's own single flight: for accounts used without a database. */
export const UNCOORDINATED: CreateCoordinator = {
  exclusive: (_name, work) => work(new AbortController().signal)
}
