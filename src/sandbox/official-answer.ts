/**
 * What the sandbox answers, checked against Pipedrive's own response model `T` (the `pipedrive`
 * package's types; types only, nothing loaded at run time). Every field, at any depth, may also be
 * null: the generated models mark answer fields optional but never nullable, while Pipedrive
 * answers null for an empty one (a person without organization has `org_id: null`) ⚠️.
 */
export type Answer<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer Item)[]
    ? Answer<Item>[]
    : { [K in keyof T]?: Answer<T[K]> | null }
