/**
 * Compile-time conformance with Pipedrive's own models: the `pipedrive` package's types, which are
 * generated from Pipedrive's API spec. The package is a devDependency and only its types are
 * imported (`import type`), so nothing of it is loaded at run time.
 */

type Primitive = string | number | boolean | bigint | symbol | null | undefined

/**
 * The fields of `Ours`, at any depth, that `Theirs` does not declare, as paths (`.address.county`).
 * An untyped `object` in their model declares nothing to check against and accepts anything.
 */
type UndeclaredFields<Ours, Theirs, Path extends string = ''> = unknown extends Ours
  ? never
  : Ours extends Primitive
    ? never
    : Ours extends readonly (infer Item)[]
      ? NonNullable<Theirs> extends readonly (infer TheirItem)[]
        ? UndeclaredFields<Item, TheirItem, `${Path}[]`>
        : `${Path}[]`
      : keyof NonNullable<Theirs> extends never
        ? never
        : {
            [K in keyof Ours & string]-?: K extends keyof NonNullable<Theirs>
              ? UndeclaredFields<Ours[K], NonNullable<Theirs>[K], `${Path}.${K}`>
              : `${Path}.${K}`
          }[keyof Ours & string]

/**
 * `Ours` when it is a `Theirs` that names no field `Theirs` lacks. Not assignable: the constraint
 * fails where this is used, naming the field. An extra field (plain assignability lets one
 * through): the type becomes an object naming it, which no body is assignable to.
 */
export type Official<Ours extends Theirs, Theirs> = [UndeclaredFields<Ours, Theirs>] extends [never]
  ? Ours
  : { fieldsPipedriveDoesNotDeclare: UndeclaredFields<Ours, Theirs> }
