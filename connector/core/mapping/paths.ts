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

function keyStep(parent: Getter, name: string): Getter {
  // Names that exist on Object.prototype must not resolve to inherited members.
  if (name in Object.prototype) {
    return (root) => {
      const o = parent(root);
      return o !== null && typeof o === 'object' && Object.hasOwn(o, name) ? (o as Record<string, unknown>)[name] : undefined;
    };
  }
  return (root) => {
    const o = parent(root);
    return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[name] : undefined;
  };
}

function indexStep(parent: Getter, index: number): Getter {
  return (root) => {
    const o = parent(root);
    return Array.isArray(o) ? (o[index] as unknown) : undefined;
  };
}

/** Reads `name` of `o` when `o` is an object (arrays included), else undefined. */
function field(o: unknown, name: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[name] : undefined;
}

/**
 * Compiles a parsed path into a getter closure (no per-event parsing). Paths of up to three plain
 * field names, the common case, get one closure; others one closure per segment.
 */
export function compileGetter(segments: readonly Segment[]): Getter {
  const names = segments.flatMap((s) => (s.kind === 'key' && !(s.name in Object.prototype) ? [s.name] : []));
  if (names.length === segments.length) {
    const [a = '', b = '', c = ''] = names;
    if (names.length === 1) return (root) => field(root, a);
    if (names.length === 2) return (root) => field(field(root, a), b);
    if (names.length === 3) return (root) => field(field(field(root, a), b), c);
  }
  let get: Getter = (root) => root;
  for (const segment of segments) {
    get = segment.kind === 'key' ? keyStep(get, segment.name) : indexStep(get, segment.index);
  }
  return get;
}

interface AvroShape {
  typeName: string;
  name?: string;
  types?: AvroShape[];
  fields?: { name: string; type: AvroShape }[];
  valuesType?: AvroShape;
  itemsType?: AvroShape;
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
