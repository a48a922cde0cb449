/**
 * The mapping is compiled to generated straight-line code, and events are decoded with the reader
 * schema narrowed to what the mapping reads. This property test keeps a plain reference
 * interpreter of the mapping rules (one generic loop per path, the transforms composed as a
 * chain) and checks, on random events of the sample schemas encoded to Avro, that the mapping
 * fed by the narrowed decoder gives exactly the outcomes the reference gives for the event
 * decoded with the whole reader schema: the same updates (attribute order included), filters,
 * truncations and error messages.
 */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDecoder } from '../../../connector/adapters/avro/decoder.js';
import { NODE_PLATFORM } from '../../../connector/adapters/mapping-file/load.js';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import {
  projectedSchemasOf,
  readerSchemasOf,
  type CompiledMapping,
  type LongValuesPolicy,
  type MappingOutcome,
} from '../../../connector/core/mapping/index.js';
import { attributeNameProblem, identityProblem, stripProfilePrefix } from '../../../connector/core/mapping/names.js';
import { parsePath, type Segment } from '../../../connector/core/mapping/paths.js';
import { stringifyValue, textLength, truncateText } from '../../../connector/core/mapping/stringify.js';
import { compileTransforms, type TransformSpec } from '../../../connector/core/mapping/transforms.js';
import { AvroDate, Decimal } from '../../../connector/core/values.js';
import { compile } from './support.js';

type Scalar = string | number | boolean;
interface Spec {
  topic: string;
  identity: Record<string, string | { path: string; transform?: TransformSpec | TransformSpec[] }>;
  when?: { path: string; in?: unknown[]; not_in?: unknown[]; equals?: unknown; exists?: boolean }[];
  attributes?: Record<string, string | { path: string; transform?: TransformSpec | TransformSpec[]; default?: Scalar } | { value: Scalar }>;
  expand?: { path: string; prefix?: string; transform?: TransformSpec | TransformSpec[] };
  long_values?: LongValuesPolicy;
  route?: string;
}

/** A failure of one event, with the message the mapping would give. */
class Unmappable extends Error {}

function segmentsOf(path: string): Segment[] {
  const parsed = parsePath(path);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.segments;
}

/** The generic walker: one step at a time, own properties only for names Object.prototype has. */
function read(root: unknown, path: string): unknown {
  let value = root;
  for (const s of segmentsOf(path)) {
    if (s.kind === 'index') value = Array.isArray(value) ? (value[s.index] as unknown) : undefined;
    else if (value === null || typeof value !== 'object') value = undefined;
    else if (s.name in Object.prototype && !Object.hasOwn(value, s.name)) value = undefined;
    else value = (value as Record<string, unknown>)[s.name];
  }
  return value;
}

function transformed(value: unknown, spec: TransformSpec | TransformSpec[] | undefined, subject: string): unknown {
  const chain = compileTransforms(spec === undefined ? [] : Array.isArray(spec) ? spec : [spec], NODE_PLATFORM);
  if (!chain || value === undefined || value === null) return value;
  try {
    return chain(value);
  } catch (err) {
    if (err instanceof UnmappableEventError) throw new Unmappable(`${subject}: ${err.message}`);
    throw err;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : stringifyValue(value);
}

function listText(values: readonly unknown[]): string {
  return `[${values.map((v) => stringifyValue(v)).join(', ')}]`;
}

/** Why the condition filters the event out, or undefined when it holds. */
function conditionReason(c: NonNullable<Spec['when']>[number], root: unknown): string | undefined {
  const value = read(root, c.path);
  const t = stringifyValue(value);
  const shown = t === undefined ? 'missing' : `"${t}"`;
  if (c.in) return t !== undefined && c.in.some((v) => (stringifyValue(v) ?? '') === t) ? undefined : `${c.path} is ${shown}, not in ${listText(c.in)}`;
  if (c.not_in)
    return t !== undefined && c.not_in.some((v) => (stringifyValue(v) ?? '') === t)
      ? `${c.path} is "${t}", excluded by not_in ${listText(c.not_in)}`
      : undefined;
  if (c.equals !== undefined) return t === stringifyValue(c.equals) ? undefined : `${c.path} is ${shown}, not "${stringifyValue(c.equals)}"`;
  const present = value !== undefined && value !== null;
  if (present === (c.exists === true)) return undefined;
  return c.exists === true ? `${c.path} is missing` : `${c.path} is present`;
}

/** The reference: the mapping rules applied to one decoded event, written as plainly as possible. */
function reference(spec: Spec, index: number, root: unknown, defaultPolicy: LongValuesPolicy): MappingOutcome {
  for (const c of spec.when ?? []) {
    const reason = conditionReason(c, root);
    if (reason !== undefined) return { kind: 'filtered', reason: `when: ${reason}` };
  }
  const policy = spec.long_values ?? defaultPolicy;
  const cut = new Map<string, string>();
  const limited = (value: string, name: string): string => {
    if (policy === 'allow' || textLength(value) <= 256) return value;
    if (policy === 'reject') throw new Unmappable(`attribute ${name} has ${textLength(value)} characters; Target keeps at most 256 (long_values: reject)`);
    const short = truncateText(value, 256);
    cut.set(name, short);
    return short;
  };
  const attributes: Record<string, string> = {};
  const [kind, from] = Object.entries(spec.identity)[0] as [string, Spec['identity'][string]];
  const identityPath = typeof from === 'string' ? from : from.path;
  let id: string;
  try {
    const idText = text(transformed(read(root, identityPath), typeof from === 'string' ? undefined : from.transform, `identity ${kind}`));
    if (idText === undefined) throw new Unmappable(`identity ${kind} (${identityPath}) is missing`);
    const problem = identityProblem(kind as 'mbox3rdPartyId', idText);
    if (problem) throw new Unmappable(`identity ${kind} (${identityPath}): ${problem}`);
    id = idText;
    if (spec.expand) {
      const map = read(root, spec.expand.path);
      if (map !== null && typeof map === 'object' && !Array.isArray(map)) {
        for (const key of Object.keys(map)) {
          const value = text(transformed((map as Record<string, unknown>)[key], spec.expand.transform, `expand ${spec.expand.path}`));
          if (value === undefined || value === '') continue;
          const name = stripProfilePrefix(spec.expand.prefix ?? '') + key;
          const problem = attributeNameProblem(name);
          if (problem) throw new Unmappable(`expand ${spec.expand.path}: ${problem}`);
          attributes[name] = limited(value, name);
        }
      }
    }
    for (const [written, attribute] of Object.entries(spec.attributes ?? {})) {
      const name = stripProfilePrefix(written);
      let value: string | undefined;
      if (typeof attribute === 'object' && 'value' in attribute) value = stringifyValue(attribute.value);
      else {
        const path = typeof attribute === 'string' ? attribute : attribute.path;
        value = text(transformed(read(root, path), typeof attribute === 'string' ? undefined : attribute.transform, `attribute ${name}`));
        const fallback = typeof attribute === 'string' ? undefined : attribute.default;
        if ((value === undefined || value === '') && fallback !== undefined) value = stringifyValue(fallback);
      }
      if (value !== undefined && value !== '') attributes[name] = limited(value, name);
    }
  } catch (err) {
    if (err instanceof Unmappable) return { kind: 'error', error: new UnmappableEventError(`mappings[${index}] (${spec.topic}): ${err.message}`) };
    throw err;
  }
  if (Object.keys(attributes).length === 0) return { kind: 'filtered', reason: 'no attribute has a value' };
  const update = spec.route === 'realtime' ? { identity: { kind, value: id }, attributes, route: 'realtime' } : { identity: { kind, value: id }, attributes };
  const truncated = [...cut].filter(([name, value]) => attributes[name] === value).map(([name]) => name);
  return (truncated.length > 0 ? { kind: 'update', update, truncated } : { kind: 'update', update }) as MappingOutcome;
}

/** Outcomes in a form that compares attribute order and error messages too. */
function comparable(outcomes: readonly MappingOutcome[]): unknown[] {
  return outcomes.map((o) => {
    if (o.kind === 'error') return { kind: 'error', message: o.error.message, unmappable: o.error instanceof UnmappableEventError };
    if (o.kind === 'update') return { ...o, order: Object.keys(o.update.attributes) };
    return o;
  });
}

interface AvroShape {
  typeName: string;
  types?: AvroShape[];
  fields?: { name: string; type: AvroShape }[];
  symbols?: string[];
  valuesType?: AvroShape;
  itemsType?: AvroShape;
  size?: number;
  precision?: number;
  scale?: number;
}

const texts = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', '  Ann@Example.COM ', 'x+y/z', 'a & b = c', '2026-01-05', '12.345', 'user', 'Å'.repeat(300)),
);

/** Random values of an Avro type, in the shapes the encoder takes (values.ts). */
function arbitraryOf(type: AvroShape): fc.Arbitrary<unknown> {
  const name = type.typeName;
  if (name.startsWith('union')) return fc.oneof(...(type.types ?? []).map(arbitraryOf));
  switch (name) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'int':
      return fc.integer();
    case 'long':
      return fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
    case 'float':
    case 'double':
      return fc.oneof(fc.double(), fc.constantFrom(1e-7, 1e21, 0.1, -0));
    case 'string':
      return texts;
    case 'bytes':
      return fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b));
    case 'fixed':
      return fc.uint8Array({ minLength: type.size ?? 0, maxLength: type.size ?? 0 }).map((b) => Buffer.from(b));
    case 'enum':
      return fc.constantFrom(...(type.symbols ?? []));
    case 'array':
      return fc.array(arbitraryOf(type.itemsType as AvroShape), { maxLength: 3 });
    case 'map':
      return fc.dictionary(
        fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('constructor', 'toString', 'user', 'a.b')),
        arbitraryOf(type.valuesType as AvroShape),
        { maxKeys: 3 },
      );
    case 'record':
      return fc.record(Object.fromEntries((type.fields ?? []).map((f) => [f.name, arbitraryOf(f.type)])));
    case 'logical:timestamp-millis':
      return fc.integer({ min: -(10 ** 13), max: 10 ** 13 }).map((ms) => new Date(ms));
    case 'logical:timestamp-micros':
      // Microseconds must stay a safe long.
      return fc.integer({ min: -(9 * 10 ** 12), max: 9 * 10 ** 12 }).map((ms) => new Date(ms));
    case 'logical:date':
      return fc.integer({ min: -800_000, max: 3_000_000 }).map((days) => new AvroDate(days));
    case 'logical:decimal': {
      const limit = 10n ** BigInt(Math.min(type.precision ?? 1, 15)) - 1n;
      return fc.bigInt({ min: -limit, max: limit }).map((unscaled) => new Decimal(unscaled, type.scale ?? 0));
    }
    case 'logical:uuid':
      return fc.uuid();
    default:
      throw new Error(`no arbitrary for ${name}`);
  }
}

/** Mappings beyond the examples: expand with transforms, whole records as JSON, Object.prototype names, defaults, long values. */
const EXTRA = `
version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: { path: customer.email, transform: trim } }
    when:
      - { path: customer.consent.email, equals: true }
    long_values: reject
    expand: { path: customFields, prefix: profile.x_, transform: [trim, uppercase] }
    attributes:
      address: { path: customer.address, transform: json }
      contact: { path: customer.contact, transform: string }
      ctor: { path: 'customFields["constructor"]', default: none }
      str: 'customFields["toString"]'
      first: { path: "preferences.categories[0]", transform: { truncate: 3 } }
      second: "preferences.categories[1]"
      all: { path: preferences.categories, transform: json }
      lastName: { path: customer.lastName, transform: [trim, lowercase, sha256], default: "-" }
      profile.id: customer.id
      x_segment: { value: fixed }
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mboxPC: customer.id }
    route: realtime
    when:
      - { path: customer.address, exists: false }
    attributes:
      cell: customer.contact.mobile
      phone: { path: customer.contact.phone, transform: { lookup: { "1": one } }, default: other }
      since: { path: updatedAt, transform: date }
      at: { path: updatedAt, transform: epoch_millis }
`;

const MINIMAL = `
version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: customer.id }
    attributes:
      firstName: customer.firstName
`;

async function examplesYaml(): Promise<string> {
  const text = await readFile(new URL('../../../examples/mapping.yaml', import.meta.url), 'utf8');
  return text
    .replace('../schemas/crm-customer-updated.avsc', 'crm.avsc')
    .replace('../schemas/loyalty-card-swiped.avsc', 'loyalty.avsc')
    .replace('../schemas/transaction-completed.avsc', 'transaction.avsc');
}

/** Checks the property for every topic of a mapping file. */
async function checkEquivalence(yaml: string, policy: LongValuesPolicy): Promise<void> {
  const mapping: CompiledMapping = await compile(yaml, { longValues: policy });
  const specs = (parse(yaml) as { mappings: Spec[] }).mappings;
  const whole = createDecoder({ readerSchemas: readerSchemasOf(mapping) });
  const projections = projectedSchemasOf(mapping);
  const narrowed = createDecoder({ readerSchemas: readerSchemasOf(mapping), projections });
  for (const topic of mapping.topics) {
    const type = mapping.readerSchema(topic) as Type;
    expect(projections.has(topic), `${topic}: some field is left out when decoding`).toBe(true);
    fc.assert(
      fc.property(arbitraryOf(type as unknown as AvroShape), (event) => {
        const bytes = type.toBuffer(event);
        const expected = specs.flatMap((spec, index) => (spec.topic === topic ? [reference(spec, index, whole.decode(topic, bytes), policy)] : []));
        expect(comparable(mapping.mapEvent(topic, narrowed.decode(topic, bytes)))).toEqual(comparable(expected));
      }),
      { numRuns: 300 },
    );
  }
}

/** The decoder's verdict on `bytes`: its failure message, or the mapping's outcomes of the value. */
function verdict(decode: () => unknown, map: (value: unknown) => MappingOutcome[]): unknown {
  let value: unknown;
  try {
    value = decode();
  } catch (err) {
    return { failed: (err as Error).message, name: (err as Error).name };
  }
  return comparable(map(value));
}

describe('compiled mapping and narrowed decoding (property)', () => {
  it('give the reference outcomes on random events for the example mappings', async () => {
    await checkEquivalence(await examplesYaml(), 'truncate');
  });

  it('give the reference outcomes for expand, JSON records, map keys named like Object.prototype members, defaults and long values', async () => {
    await checkEquivalence(EXTRA, 'truncate');
    await checkEquivalence(EXTRA.replace('long_values: reject', 'long_values: allow'), 'reject');
  });

  it.each([
    ['the example mappings', examplesYaml],
    // Leaves enums, longs, arrays and maps unread: fields whose skip would not fail like their read.
    ['a mapping reading two fields', async () => MINIMAL],
  ])('fail to decode exactly the corrupted or cut bytes the whole reader schema fails on, and map the rest alike: %s', async (_name, yaml) => {
    const mapping = await compile(await yaml());
    const whole = createDecoder({ readerSchemas: readerSchemasOf(mapping) });
    const narrowed = createDecoder({ readerSchemas: readerSchemasOf(mapping), projections: projectedSchemasOf(mapping) });
    for (const topic of mapping.topics) {
      const type = mapping.readerSchema(topic) as Type;
      fc.assert(
        fc.property(arbitraryOf(type as unknown as AvroShape), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (event, at, byte, cut) => {
          let bytes = Buffer.from(type.toBuffer(event));
          const i = at % bytes.length;
          bytes[i] = byte;
          if (cut) bytes = bytes.subarray(0, i);
          const map = (value: unknown) => mapping.mapEvent(topic, value);
          expect(verdict(() => narrowed.decode(topic, bytes), map)).toEqual(verdict(() => whole.decode(topic, bytes), map));
        }),
        { numRuns: 500 },
      );
    }
  });
});
