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
import type { AvroShape, Segment } from './paths.js';

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

type SchemaJson = { type?: unknown; name?: string; fields?: { name: string; type: unknown }[]; items?: unknown; values?: unknown };

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/** Every named type's definition in an exported schema (avsc exports full names), by name. */
function definitionsOf(schema: unknown, found: Map<string, SchemaJson> = new Map()): Map<string, SchemaJson> {
  if (Array.isArray(schema)) schema.forEach((branch) => definitionsOf(branch, found));
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return found;
  const node = schema as SchemaJson;
  if (typeof node.type === 'string' && NAMED.has(node.type) && node.name !== undefined) found.set(node.name, node);
  for (const inner of [node.type, node.items, node.values, ...(node.fields ?? []).map((f) => f.type)]) definitionsOf(inner, found);
  return found;
}

/**
 * `type` without the fields no path in `reads` reads and that can be skipped safely; undefined
 * when no field can be left out.
 */
export function projectReaderSchema(type: Type, reads: readonly (readonly Segment[])[]): Type | undefined {
  const root = type as unknown as AvroShape;
  const marks = new Reads();
  for (const segments of reads) marks.path(root, segments, 0);
  const records = recordsOf(root);
  const schema: unknown = type.schema({ exportAttrs: true });
  const definitions = definitionsOf(schema);
  const written = new Set<string>();
  let dropped = false;

  /**
   * The schema with the fields left out, in document order: a named type is written in full
   * where it first appears, which is at a later reference when its definition sat in a field
   * that was left out.
   */
  const narrow = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(narrow);
    if (typeof schema === 'string') {
      const definition = definitions.get(schema);
      return definition && !written.has(schema) ? narrow(definition) : schema;
    }
    if (schema === null || typeof schema !== 'object') return schema;
    const node = schema as SchemaJson;
    if (typeof node.type !== 'string' || !NAMED.has(node.type)) {
      return {
        ...node,
        type: narrow(node.type),
        ...(node.items !== undefined && { items: narrow(node.items) }),
        ...(node.values !== undefined && { values: narrow(node.values) }),
      };
    }
    if (node.name !== undefined) written.add(node.name);
    if (node.type !== 'record' && node.type !== 'error') return node;
    const record = records.get(node.name ?? '');
    const read = marks.fields.get(node.name ?? '');
    let fields = node.fields ?? [];
    if (record && read !== 'all') {
      fields = fields.filter((field) => {
        const fieldType = record.fields?.find((f) => f.name === field.name)?.type;
        return read?.has(field.name) === true || fieldType === undefined || !skipsLikeReads(fieldType);
      });
      if (fields.length < (node.fields ?? []).length) dropped = true;
    }
    return { ...node, fields: fields.map((field) => ({ ...field, type: narrow(field.type) })) };
  };

  const narrowed = narrow(schema);
  return dropped ? parseAvroSchema(narrowed) : undefined;
}
