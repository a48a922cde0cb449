/**
 * Paths into decoded events (`customer.address.city`, `lineItems[0].sku`, `customFields["a.b"]`):
 * parsed once, compiled into getter closures, and checked statically against Avro schemas.
 */
import type { Type } from 'avsc';
import { didYouMean } from '../suggest.js';
import { describeAvroType } from '../avro-names.js';

/** One step of a path: a field or map key, or an array index. */
export type Segment = { kind: 'key'; name: string } | { kind: 'index'; index: number };

/** Reads the value at a path; undefined when any step is missing. */
export type Getter = (root: unknown) => unknown;

const KEY = /[^.[\]\s"']+/y;
const INDEX = /\[(\d+)\]/y;
const QUOTED_KEY = /\[(?:"([^"]*)"|'([^']*)')\]/y;

/** Parses a path; the error names the character where parsing stopped. */
export function parsePath(text: string): { segments: Segment[] } | { error: string } {
  const segments: Segment[] = [];
  let pos = 0;
  while (pos < text.length) {
    const expectKey = segments.length === 0 || text[pos] === '.';
    if (text[pos] === '.') {
      if (segments.length === 0) return { error: `path "${text}" starts with "."` };
      pos += 1;
    }
    if (expectKey) {
      KEY.lastIndex = pos;
      const key = KEY.exec(text);
      if (key) {
        segments.push({ kind: 'key', name: key[0] });
        pos = KEY.lastIndex;
        continue;
      }
      if (text[pos] !== '[' || segments.length > 0) {
        return { error: `path "${text}" has no field name at character ${pos + 1}` };
      }
    }
    INDEX.lastIndex = pos;
    const index = INDEX.exec(text);
    if (index) {
      segments.push({ kind: 'index', index: Number(index[1]) });
      pos = INDEX.lastIndex;
      continue;
    }
    QUOTED_KEY.lastIndex = pos;
    const quoted = QUOTED_KEY.exec(text);
    if (quoted) {
      segments.push({ kind: 'key', name: quoted[1] ?? quoted[2] ?? '' });
      pos = QUOTED_KEY.lastIndex;
      continue;
    }
    return {
      error: `path "${text}" is not valid at character ${pos + 1} (expected .field, [index] or ["map key"])`,
    };
  }
  if (segments.length === 0) return { error: 'path is empty' };
  return { segments };
}

/** Writes segments back in the syntax users type, for messages. */
export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (s.kind === 'index') out += `[${s.index}]`;
    else if (/^[^.[\]\s"']+$/.test(s.name)) out += out === '' ? s.name : `.${s.name}`;
    else out += `["${s.name}"]`;
  }
  return out;
}

/**
 * JavaScript statements that set the variable `into` to the value at `segments` of the variable
 * `from`, or undefined when a step is missing (a step on undefined stays undefined). Keys and
 * indices are written as literals, so each read has its own inline cache in the generated
 * function. Names that exist on Object.prototype are read only when they are own properties,
 * through `hasOwn` (Object.hasOwn), which the generated function must have in scope.
 */
export function readPathSource(segments: readonly Segment[], from: string, into: string): string {
  let source = `${into} = ${from};`;
  for (const segment of segments) {
    if (segment.kind === 'index') {
      source += ` ${into} = Array.isArray(${into}) ? ${into}[${segment.index}] : undefined;`;
      continue;
    }
    const key = JSON.stringify(segment.name);
    const own = segment.name in Object.prototype ? ` && hasOwn(${into}, ${key})` : '';
    source += ` ${into} = ${into} !== null && typeof ${into} === 'object'${own} ? ${into}[${key}] : undefined;`;
  }
  return source;
}

/**
 * Compiles a parsed path into a getter of its own (no per-event parsing, no generic walker): the
 * steps are generated as straight-line code, the way avsc compiles its readers.
 */
export function compileGetter(segments: readonly Segment[]): Getter {
  // The source holds only JSON-quoted keys and integer indices, never text run as code.
  const factory = new Function(
    'hasOwn',
    `'use strict'; return function get(root) { let value; ${readPathSource(segments, 'root', 'value')} return value; };`,
  ) as (hasOwn: typeof Object.hasOwn) => Getter;
  return factory(Object.hasOwn);
}

/** The parts of an avsc Type that walking a schema reads (avsc's types carry them, untyped). */
export interface AvroShape {
  typeName: string;
  name?: string;
  types?: AvroShape[];
  fields?: { name: string; type: AvroShape }[];
  valuesType?: AvroShape;
  itemsType?: AvroShape;
  underlyingType?: AvroShape;
}

/**
 * Walks `segments` through an Avro type, seeing through unions. Returns every non-null type the
 * value at the end of the path can have (a union at the end gives one per branch), or an error
 * saying where the path leaves the schema.
 */
export function resolvePathType(type: Type, segments: readonly Segment[]): { types: Type[] } | { error: string } {
  const result = walk(type as unknown as AvroShape, segments, 0);
  return 'error' in result ? result : { types: result.types as unknown as Type[] };
}

function walk(type: AvroShape, segments: readonly Segment[], at: number): { types: AvroShape[] } | { error: string } {
  if (type.typeName.startsWith('union')) {
    const branches = (type.types ?? []).filter((t) => t.typeName !== 'null');
    const types: AvroShape[] = [];
    let firstError: { error: string } | undefined;
    for (const branch of branches) {
      const result = walk(branch, segments, at);
      if ('types' in result) types.push(...result.types);
      else firstError ??= result;
    }
    if (types.length > 0) return { types };
    return firstError ?? { error: `${formatPath(segments.slice(0, at)) || 'the event'} is always null` };
  }
  const segment = segments[at];
  if (segment === undefined) return { types: type.typeName === 'null' ? [] : [type] };
  const here = formatPath(segments.slice(0, at)) || 'the event';
  if (type.typeName === 'record' || type.typeName === 'error') {
    if (segment.kind === 'index') return { error: `${here} is a record, not an array` };
    const field = type.fields?.find((f) => f.name === segment.name);
    if (!field) {
      const names = (type.fields ?? []).map((f) => f.name);
      return { error: `record ${type.name ?? ''} has no field "${segment.name}"${didYouMean(segment.name, names)}` };
    }
    return walk(field.type, segments, at + 1);
  }
  if (type.typeName === 'map') {
    if (segment.kind === 'index') return { error: `${here} is a map; use ${here}["key"]` };
    return walk(type.valuesType as AvroShape, segments, at + 1);
  }
  if (type.typeName === 'array') {
    if (segment.kind === 'key') return { error: `${here} is an array; use ${here}[0].${segment.name}` };
    return walk(type.itemsType as AvroShape, segments, at + 1);
  }
  const described = describeAvroType(type as unknown as Type);
  return { error: `${here} is ${described}; it has no ${segment.kind === 'key' ? `field "${segment.name}"` : 'items'}` };
}
