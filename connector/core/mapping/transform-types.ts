/**
 * What each transform accepts and produces, so that a chain is type-checked step by step against
 * the Avro schema when a mapping loads. This is the contract docs/mapping.md documents: whatever it
 * accepts, the runtime steps in transforms.ts handle (except text that only the event can show is
 * not ISO 8601).
 */
import type { ValueKind, ValueType } from './value-types.js';

/** What one transform takes and gives. */
export interface TransformSignature {
  /** The kinds of value it accepts. */
  readonly accepts: ReadonlySet<ValueKind>;
  /** What it needs, for messages: `a number or decimal`. */
  readonly needs: string;
  /** What it produces. */
  readonly produces: ValueType;
}

const TEXT: ValueType = { kind: 'string', label: 'text' };
const EPOCH_MILLIS: ValueType = { kind: 'number', label: 'a number (epoch milliseconds)' };

const SCALAR: ValueKind[] = ['string', 'enum', 'number', 'boolean', 'bytes', 'decimal', 'timestamp', 'date'];
const ANY: ValueKind[] = [...SCALAR, 'record', 'array', 'map'];
// Strings are accepted because ISO 8601 text is parsed when the event arrives; text that does
// not parse makes that event unmappable (dead-lettered with the attribute named).
const INSTANT: ValueKind[] = ['timestamp', 'date', 'number', 'string'];

const NEEDS_SCALAR = 'a single value, not a record, array or map (use json or join first)';
const NEEDS_INSTANT = 'a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text)';

function signature(accepts: ValueKind[], needs: string, produces: ValueType = TEXT): TransformSignature {
  return { accepts: new Set(accepts), needs, produces };
}

const SIGNATURES: Readonly<Record<string, TransformSignature>> = {
  trim: signature(SCALAR, NEEDS_SCALAR),
  lowercase: signature(SCALAR, NEEDS_SCALAR),
  uppercase: signature(SCALAR, NEEDS_SCALAR),
  sha256: signature(SCALAR, NEEDS_SCALAR),
  iso8601: signature(INSTANT, NEEDS_INSTANT),
  epoch_millis: signature(INSTANT, NEEDS_INSTANT, EPOCH_MILLIS),
  date: signature(INSTANT, NEEDS_INSTANT),
  string: signature(ANY, 'any value'),
  json: signature(ANY, 'any value'),
  round: signature(['number', 'decimal'], 'a number or decimal'),
  join: signature(['array'], 'an array'),
  truncate: signature(SCALAR, NEEDS_SCALAR),
  lookup: signature(SCALAR, NEEDS_SCALAR),
};

/** The signature of a transform by name (`round` for `{round: 2}`); undefined for an unknown name. */
export function transformSignature(name: string): TransformSignature | undefined {
  return Object.hasOwn(SIGNATURES, name) ? SIGNATURES[name] : undefined;
}
