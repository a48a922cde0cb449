/**
 * Runs one mapping test case's event through the event pipeline — the decode → map → plan code
 * `run` and `preview` use — with a delivery that records the updates and sends nothing. Shared by
 * `test` and `init` (which records its first case from a sample event). No network: framed Avro
 * input is read as written with the mapping's reader schema, instead of asking the registry.
 */
import type { Type } from 'avsc';
import { createDecoder } from '../../adapters/avro/decoder.js';
import { jsonPayloadDecoder } from '../../adapters/avro/json-values.js';
import { systemClock } from '../../system/clock.js';
import { systemRandom } from '../../system/random.js';
import { describeError } from '../../core/errors.js';
import { projectedSchemasOf, readerSchemasOf, type CompiledMapping } from '../../core/mapping/index.js';
import type { CaseOutcome, CaseUpdate } from '../../core/mapping-tests/cases.js';
import { OrderedInput } from '../../core/pipeline/ordered-input.js';
import { EventPipeline, type EventOutcome, type PayloadDecoder } from '../../core/pipeline/pipeline.js';
import type { InboundEvent } from '../../core/pipeline/source.js';
import { routeOf, type ProfileUpdate } from '../../core/profile.js';
import { RetryPolicy } from '../../core/retry.js';
import { RecordingDelivery, type RecordedTarget } from './recording-delivery.js';

/** A case's event as the pipeline takes it: JSON text, Avro bytes, or null for a tombstone. */
export type CasePayload = { kind: 'json'; value: unknown } | { kind: 'avro'; bytes: Buffer };

const CASE_INPUT = 'mapping-test';

class CaseEvent implements InboundEvent<number> {
  readonly input = CASE_INPUT;
  readonly partition = 0;
  readonly offset = 0;
  readonly message = 0;

  constructor(
    readonly topic: string,
    readonly payload: Buffer | null,
  ) {}

  header(): undefined {
    return undefined;
  }
}

/** Why a topic cannot be tested without the registry. */
function noSchema(topic: string): string {
  return `topic ${topic} has no schema in the mapping; mapping tests do not ask the schema registry, so name the reader schema with \`schema:\``;
}

/** The decoder `run` would use for this payload; `framed` when the config names a schema registry. */
function decoderFor(mapping: CompiledMapping, topic: string, payload: CasePayload, framed: boolean): PayloadDecoder {
  const schemas = readerSchemasOf(mapping);
  if (payload.kind === 'json') return jsonPayloadDecoder(schemas, noSchema);
  const reader: Type | undefined = schemas.get(topic);
  const projections = projectedSchemasOf(mapping);
  if (!framed) return createDecoder({ readerSchemas: schemas, projections });
  return createDecoder({
    readerSchemas: schemas,
    projections,
    registry: { schemaById: async () => reader ?? Promise.reject(new Error(noSchema(topic))) },
  });
}

function caseUpdate(update: ProfileUpdate): CaseUpdate {
  return { identity: { ...update.identity }, route: routeOf(update), attributes: { ...update.attributes } };
}

/** What the event of a case became. */
export async function runCaseEvent(
  mapping: CompiledMapping,
  target: RecordedTarget,
  topic: string,
  payload: CasePayload,
  framed: boolean,
): Promise<CaseOutcome> {
  const delivery = new RecordingDelivery(target);
  const input = new OrderedInput<number>(CASE_INPUT);
  let settled: (outcome: EventOutcome) => void = () => {};
  const done = new Promise<EventOutcome>((resolve) => (settled = resolve));
  const pipeline = new EventPipeline<number>({
    source: input,
    decoder: decoderFor(mapping, topic, payload, framed),
    mapper: mapping,
    delivery,
    // Nothing is written: the case asserts on the reason the event would be dead-lettered with.
    deadLetters: { write: async () => {} },
    commits: { intervalMs: 0, threshold: 1 },
    maxPending: Number.MAX_SAFE_INTEGER,
    decodeRetry: new RetryPolicy({ initialMs: 0, maxMs: 0, maxAttempts: 1, random: systemRandom }),
    clock: systemClock,
    observer: { settled: (_event, outcome) => settled(outcome) },
  });
  await pipeline.start();
  let bytes: Buffer | null;
  if (payload.kind === 'avro') bytes = payload.bytes;
  else bytes = payload.value === null ? null : Buffer.from(JSON.stringify(payload.value));
  await input.push(new CaseEvent(topic, bytes));
  const outcome = await done;
  switch (outcome.kind) {
    case 'delivered':
      return { kind: 'updates', updates: delivery.updates.map(caseUpdate) };
    case 'filtered':
      return { kind: 'filtered', reason: outcome.reason };
    case 'failed':
      return { kind: 'dead_letter', reason: describeError(outcome.error).message };
    case 'cancelled':
      // Only a revoked partition cancels, and a case's input is never revoked.
      return { kind: 'dead_letter', reason: 'cancelled' };
  }
}
