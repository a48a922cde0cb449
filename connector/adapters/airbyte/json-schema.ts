/**
 * Avro → JSON Schema (draft-07), for `discover`. The schema describes the JSON a RECORD message
 * carries for a topic, i.e. what `write` accepts: logical types in their JSON-friendly text form
 * (ISO timestamps and dates, decimals as exact strings), unions as plain values.
 */
import type { Type, types } from 'avsc';

/** The JSON Schema subset the conversion produces. */
export interface JsonSchemaNode {
  $schema?: string;
  description?: string;
  type?: JsonType | JsonType[];
  format?: string;
  pattern?: string;
  enum?: (string | null)[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  additionalProperties?: JsonSchemaNode | boolean;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  /** Airbyte's hint for timestamps with and without a zone. */
  airbyte_type?: 'timestamp_with_timezone' | 'timestamp_without_timezone';
}

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** The JSON Schema (draft-07) of the JSON form of values of `type`. */
export function avroToJsonSchema(type: Type): JsonSchemaNode {
  return { $schema: DRAFT_07, ...convert(type, new Set()) };
}

/** `inProgress` holds the records being converted, so a recursive record ends instead of looping. */
function convert(type: Type, inProgress: Set<Type>): JsonSchemaNode {
  const name = type.typeName;
  if (name.startsWith('logical:')) return convertLogical(type as types.LogicalType, name.slice('logical:'.length), inProgress);
  switch (name) {
    case 'null':
      return { type: 'null' };
    case 'boolean':
      return { type: 'boolean' };
    case 'int':
    case 'long':
      return { type: 'integer' };
    case 'float':
    case 'double':
      return { type: 'number' };
    case 'string':
      return { type: 'string' };
    case 'bytes':
    case 'fixed':
      // JSON has no bytes; Airbyte sources carry them as text. (write's Avro round trip wants a
      // Buffer there, so such a field does not get through write yet; the sample schemas have none.)
      return { type: 'string' };
    case 'enum':
      return { type: 'string', enum: [...(type as types.EnumType).symbols] };
    case 'array':
      return { type: 'array', items: convert((type as types.ArrayType).itemsType, inProgress) };
    case 'map':
      return { type: 'object', additionalProperties: convert((type as types.MapType).valuesType as Type, inProgress) };
    case 'record':
    case 'error':
      return convertRecord(type as types.RecordType, inProgress);
    case 'union:unwrapped':
    case 'union:wrapped':
      return convertUnion((type as types.UnwrappedUnionType).types, inProgress);
    default:
      // Every Avro type is listed above; a new avsc type name must not pass silently as "anything".
      throw new TypeError(`cannot describe Avro type ${name} as JSON Schema`);
  }
}

function convertRecord(type: types.RecordType, inProgress: Set<Type>): JsonSchemaNode {
  if (inProgress.has(type)) return withDoc({ type: 'object' }, type.doc);
  inProgress.add(type);
  const properties: Record<string, JsonSchemaNode> = {};
  const required: string[] = [];
  for (const field of type.fields) {
    // avsc keeps field docs at runtime; its typings omit them.
    properties[field.name] = withDoc(convert(field.type, inProgress), (field as { doc?: string }).doc);
    // A field with a default may be left out: encoding fills the default in.
    if (field.defaultValue() === undefined) required.push(field.name);
  }
  inProgress.delete(type);
  return withDoc({ type: 'object', properties, required }, type.doc);
}

function convertUnion(branches: Type[], inProgress: Set<Type>): JsonSchemaNode {
  const values = branches.filter((branch) => branch.typeName !== 'null');
  const hasNull = values.length < branches.length;
  const [only] = values;
  if (!only) return { type: 'null' };
  if (values.length > 1) {
    const anyOf = values.map((branch) => convert(branch, inProgress));
    return { anyOf: hasNull ? [{ type: 'null' }, ...anyOf] : anyOf };
  }
  const schema = convert(only, inProgress);
  return hasNull ? nullable(schema) : schema;
}

function convertLogical(type: types.LogicalType, logical: string, inProgress: Set<Type>): JsonSchemaNode {
  switch (logical) {
    case 'timestamp-millis':
    case 'timestamp-micros':
      return { type: 'string', format: 'date-time', airbyte_type: 'timestamp_with_timezone' };
    case 'local-timestamp-millis':
    case 'local-timestamp-micros':
      return { type: 'string', format: 'date-time', airbyte_type: 'timestamp_without_timezone' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'decimal': {
      // Only the exported schema with attributes carries precision and scale (avsc drops them otherwise).
      const { precision, scale } = type.schema({ exportAttrs: true }) as unknown as { precision: number; scale?: number };
      return { type: 'string', pattern: decimalPattern(precision, scale ?? 0) };
    }
    default:
      // A logical type the connector does not know decodes as its underlying type.
      return convert(type.underlyingType, inProgress);
  }
}

/** Plain decimal text with at most `precision - scale` integer and `scale` fraction digits. */
function decimalPattern(precision: number, scale: number): string {
  const integerDigits = precision - scale;
  const integer = integerDigits > 0 ? `\\d{1,${integerDigits}}` : '0';
  const fraction = scale > 0 ? `(\\.\\d{1,${scale}})?` : '';
  return `^[+-]?${integer}${fraction}$`;
}

/** The schema with `null` also allowed, in Airbyte's `["null", T]` form. */
function nullable(schema: JsonSchemaNode): JsonSchemaNode {
  return {
    ...schema,
    type: ['null', ...[schema.type ?? []].flat().filter((t) => t !== 'null')],
    // An enum list restricts values, so null must be one of them.
    ...(schema.enum && { enum: [...schema.enum, null] }),
  };
}

function withDoc(schema: JsonSchemaNode, doc: string | undefined): JsonSchemaNode {
  return doc === undefined ? schema : { ...schema, description: doc };
}
