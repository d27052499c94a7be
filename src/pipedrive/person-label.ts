import type { Logger } from '../logger-interface.js'
import type { PipedriveAccount } from './account.js'
import {
  type ApiOptions,
  listPersonFields,
  listPersonFieldsV1,
  postPersonFieldOptions,
  putPersonFieldV1
} from './api.js'
import type { PipedriveClient } from './client.js'
import type { CreateCoordinator } from './create-coordinator.js'
import { createOnce } from './create-once.js'
import { PipedriveError } from './errors.js'
import { sameText } from './names.js'
import type { Field, FieldOption } from './schemas.js'

/** The person field holding labels: `label_ids` today, `label` on some accounts ⚠️. */
const LABEL_FIELD_CODES = ['label_ids', 'label']
/** Answers meaning "this field's options cannot be changed through v2": try the v1 update. */
const V2_REFUSALS = new Set([400, 403, 404, 405, 422])

function labelField(fields: Field[]): Field | undefined {
  for (const code of LABEL_FIELD_CODES) {
    const field = fields.find((candidate) => candidate.field_code === code)
    if (field) return field
  }
  return undefined
}

function optionNamed(options: FieldOption[] | null | undefined, name: string): FieldOption | undefined {
  return options?.find((option) => sameText(option.label, name))
}

/**
 * Id of the person label `name`, matched ignoring case so Pipedrive's default "Warm lead" is
 * reused for "Warm Lead"; created once when missing (v2 options endpoint, else the v1 field
 * update that resends every existing option — leaving one out would delete it). The label is the
 * company's, whichever token asks: a missing one is created under the coordinator's lease
 * `label:<name>` (every token and instance), after reading the labels again under it. Cached
 * per account: its callers share one in-flight promise per name.
 */
export function personLabelId(account: PipedriveAccount, name: string): Promise<number> {
  return account.cache.labelIds.get(name.trim().toLowerCase(), () =>
    resolvePersonLabel(account.client, name.trim(), account.log, account.coordinator)
  )
}

async function resolvePersonLabel(
  client: PipedriveClient,
  name: string,
  log: Logger,
  coordinator: CreateCoordinator
): Promise<number> {
  const existing = optionNamed(requireLabelField(await listPersonFields(client)).options, name)
  if (existing) return existing.id
  return coordinator.exclusive(`label:${name.toLowerCase()}`, async (signal) => {
    // Another token or instance may have created it while this one waited for the lease.
    const field = requireLabelField(await listPersonFields(client, { signal }))
    const made = optionNamed(field.options, name)
    if (made) return made.id
    const { value } = await createOnce(
      client,
      {
        what: `person label "${name}"`,
        create: (options) => createLabel(client, field.field_code, name, options, log),
        lookup: async (options) =>
          optionNamed(labelField(await listPersonFields(client, options))?.options, name)?.id
      },
      { signal }
    )
    log.info({ pipedriveToken: client.key, label: name, labelId: value }, 'created Pipedrive person label')
    return value
  })
}

function requireLabelField(fields: Field[]): Field {
  const field = labelField(fields)
  if (field) return field
  throw new PipedriveError({ method: 'GET', path: '/api/v2/personFields' }, 200, 'no person label field', {
    retryable: false,
    ambiguous: false
  })
}

async function createLabel(
  client: PipedriveClient,
  fieldCode: string,
  name: string,
  options: ApiOptions,
  log: Logger
): Promise<number> {
  try {
    const added = await postPersonFieldOptions(client, fieldCode, [{ label: name }], options)
    const option = optionNamed(added, name) ?? added[0]
    if (option) return option.id
    throw new PipedriveError(
      { method: 'POST', path: `/api/v2/personFields/${fieldCode}/options` },
      200,
      'no option returned',
      {
        retryable: false,
        ambiguous: true
      }
    )
  } catch (error) {
    if (!(error instanceof PipedriveError && V2_REFUSALS.has(error.status))) throw error
    log.info(
      { pipedriveToken: client.key, status: error.status },
      'v2 label option refused, using the v1 field update'
    )
  }
  // Read right before the PUT (and under the label's lease): the PUT replaces the whole list, so
  // it must carry every option that exists now, not the ones of an earlier read.
  const field = (await listPersonFieldsV1(client, options)).find((candidate) => candidate.key === fieldCode)
  if (!field) {
    throw new PipedriveError(
      { method: 'GET', path: '/api/v1/personFields' },
      200,
      `no field with key ${fieldCode}`,
      {
        retryable: false,
        ambiguous: false
      }
    )
  }
  const already = optionNamed(field.options, name)
  if (already) return already.id
  const kept = (field.options ?? []).map((option) => ({
    id: option.id,
    label: option.label,
    ...(option.color ? { color: option.color } : {})
  }))
  const updated = await putPersonFieldV1(client, field.id, { options: [...kept, { label: name }] }, options)
  const option = optionNamed(updated.options, name)
  if (option) return option.id
  throw new PipedriveError(
    { method: 'PUT', path: `/api/v1/personFields/${field.id}` },
    200,
    'label missing after update',
    {
      retryable: false,
      ambiguous: true
    }
  )
}
