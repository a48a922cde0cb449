/**
 * What an Avro type holds once decoded, in the terms transforms and conditions are checked in:
 * a string, an enum with its symbols, a number, a timestamp... Unions are flattened to their
 * non-null branches, because a path sees through them.
 */
import type { Type } from 'avsc';
import { describeAvroType } from '../avro-names.js';

/** The kinds of decoded value the static check tells apart (see decode/values.ts). */
export type ValueKind = 'string' | 'enum' | 'number' | 'boolean' | 'bytes' | 'decimal' | 'timestamp' | 'date' | 'record' | 'array' | 'map';

/** One kind of value a path (or a transform's result) can hold. */
export interface ValueType {
  readonly kind: ValueKind;
  /** How messages name it, with its article: `a string`, `an enum com.acme.crm.LoyaltyTier`, `text`. */
  readonly label: string;
  /** The symbols of an enum. */
  readonly symbols?: readonly string[];
}

/** The parts of avsc's Type classes the check reads. */
interface AvroShape {
  typeName: string;
  types?: AvroShape[];
  symbols?: string[];
  underlyingType?: AvroShape;
}

const TIMESTAMPS = new Set(['timestamp-millis', 'timestamp-micros', 'local-timestamp-millis', 'local-timestamp-micros']);

const KINDS: Readonly<Record<string, ValueKind>> = {
  string: 'string',
  enum: 'enum',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  boolean: 'boolean',
  bytes: 'bytes',
  fixed: 'bytes',
  record: 'record',
  error: 'record',
  array: 'array',
  map: 'map',
};

/** The kind of one non-union Avro type, as decode/values.ts turns it into a value; undefined for null. */
function kindOf(shape: AvroShape): ValueKind | undefined {
  if (shape.typeName.startsWith('logical:')) {
    const logical = shape.typeName.slice('logical:'.length);
    if (TIMESTAMPS.has(logical)) return 'timestamp';
    if (logical === 'date') return 'date';
    if (logical === 'decimal') return 'decimal';
    return shape.underlyingType && kindOf(shape.underlyingType);
  }
  return Object.hasOwn(KINDS, shape.typeName) ? KINDS[shape.typeName] : undefined;
}

/** The non-null branches of an Avro type, unions flattened. */
function branchesOf(type: Type): Type[] {
  const shape = type as unknown as AvroShape;
  if (!shape.typeName.startsWith('union')) return shape.typeName === 'null' ? [] : [type];
  return (shape.types ?? []).flatMap((branch) => branchesOf(branch as unknown as Type));
}

/** What a value of `type` can be once decoded: one entry per non-null branch. */
export function valueTypesOf(type: Type): ValueType[] {
  return branchesOf(type).flatMap((branch) => {
    const shape = branch as unknown as AvroShape;
    const kind = kindOf(shape);
    if (kind === undefined) return [];
    return [{ kind, label: describeAvroType(branch), ...(kind === 'enum' && { symbols: shape.symbols ?? [] }) }];
  });
}

/** `a string`, `a string or a long`: the labels of `types` for a message. */
export function describeValueTypes(types: readonly ValueType[]): string {
  const labels = [...new Set(types.map((t) => t.label))];
  return labels.length <= 1 ? (labels[0] ?? 'always null') : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1) as string}`;
}
