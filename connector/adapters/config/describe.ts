/** Plain-words descriptions of what a schema expects and of what a config file holds instead. */
import type { JsonSchema, JsonType } from './spec.js';

function range(schema: JsonSchema): string {
  const { minimum: min, maximum: max } = schema;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

function describeString(schema: JsonSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (schema.pattern) {
    // A regular expression means little to most readers; a real example says the same thing.
    const example = schema.examples?.find((e): e is string => typeof e === 'string');
    return example === undefined ? `a string matching ${schema.pattern}` : `a string like ${JSON.stringify(example)}`;
  }
  return (schema.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
}

function describeType(schema: JsonSchema, type: JsonType): string {
  switch (type) {
    case 'integer':
      return `an integer${range(schema)}`;
    case 'number':
      return `a number${range(schema)}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return describeString(schema);
    case 'array': {
      const list = (schema.minItems ?? 0) > 0 ? 'a non-empty list' : 'a list';
      return schema.items ? `${list} (each ${describeExpected(schema.items)})` : list;
    }
    case 'object':
      return 'a mapping of keys to values';
    case 'null':
      return 'nothing (null)';
  }
}

/** What a value must be to satisfy `schema`, e.g. `an integer ≥ 1` or `one of "a", "b"`. */
export function describeExpected(schema: JsonSchema): string {
  const types: JsonType[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : ['string'];
  return types.map((t) => describeType(schema, t)).join(', or ');
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** How a found value reads in a message; a secret shows only its kind, never its content. */
export function describeFound(value: unknown, secret: boolean): string {
  if (secret || value === null || value === undefined || typeof value === 'object') return kindOf(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}
