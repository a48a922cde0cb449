/**
 * The reader schema narrowed to what a topic's mappings read, so that decoding skips the bytes of
 * every other field instead of building strings and objects nobody looks at (avsc resolves a
 * reader schema that lacks a writer field by skipping it).
 *
 * A field is left out only when skipping it fails exactly when reading it would: avsc skips enums
 * and longs without checking the index or the range, and arrays and maps by their block sizes,
 * so fields holding any of those stay. A value a path ends at (a record read whole by `json`, a
 * map by `expand`) keeps every field. Named types are narrowed once, for all their uses.
 */
import type { Type } from 'avsc';
import { parseAvroSchema } from '../avro-types.js';
import type { Segment } from './paths.js';

interface AvroShape {
  typeName: string;
  name?: string;
  types?: AvroShape[];
  fields?: { name: string; type: AvroShape }[];
  valuesType?: AvroShape;
  itemsType?: AvroShape;
  underlyingType?: AvroShape;
}

/** Logical types whose reading of any well-formed underlying value never throws (see avro-types.ts). */
const SAFE_LOGICAL = new Set(['logical:uuid', 'logical:date', 'logical:decimal']);
const SAFE_PRIMITIVES = new Set(['null', 'boolean', 'int', 'float', 'double', 'string', 'bytes', 'fixed']);

/** True when skipping a value of `type` fails for the same bytes as reading it. */
function skipsLikeReads(type: AvroShape, seen: Set<AvroShape> = new Set()): boolean {
  if (SAFE_PRIMITIVES.has(type.typeName)) return true;
  if (SAFE_LOGICAL.has(type.typeName)) return type.underlyingType !== undefined && skipsLikeReads(type.underlyingType, seen);
  if (type.typeName.startsWith('union')) return (type.types ?? []).every((branch) => skipsLikeReads(branch, seen));
  if (type.typeName === 'record' || type.typeName === 'error') {
    // A recursive record holds itself only through a union or array, judged on their own.
    if (seen.has(type)) return true;
    seen.add(type);
    return (type.fields ?? []).every((field) => skipsLikeReads(field.type, seen));
  }
  return false;
}

/** What the paths read of each named record: some of its fields, or all of them. */
class Reads {
  readonly fields = new Map<string, Set<string> | 'all'>();

  /** Marks the fields `segments` go through from `type`, and everything under where they end. */
  path(type: AvroShape, segments: readonly Segment[], at: number): void {
    if (type.typeName.startsWith('union')) {
      for (const branch of type.types ?? []) this.path(branch, segments, at);
      return;
    }
    const segment = segments[at];
    if (segment === undefined) return this.whole(type, new Set());
    if ((type.typeName === 'record' || type.typeName === 'error') && segment.kind === 'key') {
      const field = type.fields?.find((f) => f.name === segment.name);
      if (!field) return;
      const known = this.fields.get(type.name ?? '');
      if (known !== 'all') this.fields.set(type.name ?? '', (known ?? new Set()).add(field.name));
      this.path(field.type, segments, at + 1);
    } else if (type.typeName === 'map' && type.valuesType) this.path(type.valuesType, segments, at + 1);
    else if (type.typeName === 'array' && type.itemsType) this.path(type.itemsType, segments, at + 1);
  }

  /** Marks every record under `type` as read whole. */
  whole(type: AvroShape, seen: Set<AvroShape>): void {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.typeName === 'record' || type.typeName === 'error') this.fields.set(type.name ?? '', 'all');
    for (const inner of [...(type.types ?? []), ...(type.fields ?? []).map((f) => f.type), type.valuesType, type.itemsType, type.underlyingType]) {
      if (inner) this.whole(inner, seen);
    }
  }
}

/** Every named record of `type` by its full name. */
function recordsOf(type: AvroShape, found: Map<string, AvroShape> = new Map()): Map<string, AvroShape> {
  if ((type.typeName === 'record' || type.typeName === 'error') && type.name !== undefined) {
    if (found.has(type.name)) return found;
    found.set(type.name, type);
  }
  for (const inner of [...(type.types ?? []), ...(type.fields ?? []).map((f) => f.type), type.valuesType, type.itemsType]) {
    if (inner) recordsOf(inner, found);
  }
  return found;
}

type SchemaJson = { type?: unknown; name?: string; namespace?: string; fields?: { name: string; type: unknown }[]; items?: unknown; values?: unknown };

/**
 * `type` without the fields no path in `reads` reads and that can be skipped safely; undefined
 * when no field can be left out.
 */
export function projectReaderSchema(type: Type, reads: readonly (readonly Segment[])[]): Type | undefined {
  const root = type as unknown as AvroShape;
  const marks = new Reads();
  for (const segments of reads) marks.path(root, segments, 0);
  const records = recordsOf(root);
  let dropped = false;

  /** Prunes the exported schema in place; named types appear in full once, then by name. */
  const prune = (schema: unknown, namespace: string | undefined): void => {
    if (Array.isArray(schema)) return schema.forEach((branch) => prune(branch, namespace));
    if (schema === null || typeof schema !== 'object') return;
    const node = schema as SchemaJson;
    if (node.type === 'record' || node.type === 'error') {
      const space = node.name?.includes('.') ? node.name.slice(0, node.name.lastIndexOf('.')) : (node.namespace ?? namespace);
      const fullName = node.name?.includes('.') || space === undefined || space === '' ? (node.name ?? '') : `${space}.${node.name ?? ''}`;
      const record = records.get(fullName);
      const read = marks.fields.get(fullName);
      if (record && read !== 'all') {
        const kept = (node.fields ?? []).filter((field) => {
          const fieldType = record.fields?.find((f) => f.name === field.name)?.type;
          return read?.has(field.name) === true || fieldType === undefined || !skipsLikeReads(fieldType);
        });
        if (kept.length < (node.fields ?? []).length) dropped = true;
        node.fields = kept;
      }
      for (const field of node.fields ?? []) prune(field.type, space);
      return;
    }
    prune(node.type, namespace);
    prune(node.items, namespace);
    prune(node.values, namespace);
  };

  const schema = type.schema({ exportAttrs: true });
  prune(schema, undefined);
  return dropped ? parseAvroSchema(schema) : undefined;
}
