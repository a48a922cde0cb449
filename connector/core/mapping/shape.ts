/**
 * Validates a mapping file against `schemas/mapping.schema.json` (the same schema editors use)
 * and turns ajv's errors into positioned, human messages.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import type { SourceProblem } from '../errors.js';
import mappingSchema from '../../../schemas/mapping.schema.json' with { type: 'json' };
import { didYouMean } from '../suggest.js';
import type { FieldPath, YamlSource } from './yaml-source.js';

let validator: ValidateFunction | undefined;

function validate(data: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile(mappingSchema);
  return validator(data) ? [] : (validator.errors ?? []);
}

function fieldPath(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value === 'string' ? `"${value}"` : `${typeof value} ${String(value)}`;
}

function typeList(type: unknown): string {
  const names = (Array.isArray(type) ? type : [type]).map((t) => (t === 'object' ? 'map' : t === 'array' ? 'list' : String(t)));
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
}

function titleOf(schema: AnySchemaObject | undefined): string {
  return typeof schema?.title === 'string' ? schema.title : 'value';
}

/** The keys a oneOf of `{required: [k]}` branches chooses between, if that is its form. */
function exclusiveKeys(schema: AnySchemaObject | undefined): string[] | undefined {
  const branches: unknown = schema?.oneOf;
  if (!Array.isArray(branches)) return undefined;
  const keys: string[] = [];
  for (const branch of branches as { required?: unknown }[]) {
    const required = branch.required;
    if (!Array.isArray(required) || required.length !== 1) return undefined;
    keys.push(String(required[0]));
  }
  return keys;
}

interface Located {
  path: FieldPath;
  part: 'key' | 'value';
  message: string;
}

function explain(error: ErrorObject): Located {
  const path = fieldPath(error.instancePath);
  const title = titleOf(error.parentSchema);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path, part: 'value', message: `${title} needs "${String(params.missingProperty)}"` };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const hint = didYouMean(key, allowed) || ` (expected one of: ${allowed.join(', ')})`;
      const message = title === 'transform' ? `unknown transform "${key}"${hint}` : `unknown key "${key}" in ${title}${hint}`;
      return { path: [...path, key], part: 'key', message };
    }
    case 'enum': {
      const allowed = (error.schema as unknown[]).map(String);
      const value = error.data;
      const hint = (typeof value === 'string' && didYouMean(value, allowed)) || ` (expected one of: ${allowed.join(', ')})`;
      return { path, part: 'value', message: `unknown ${title} ${JSON.stringify(value) ?? String(value)}${hint}` };
    }
    case 'type':
      return { path, part: 'value', message: `expected ${title} (${typeList(error.schema)}), found ${describeValue(error.data)}` };
    case 'oneOf': {
      const keys = exclusiveKeys(error.parentSchema);
      if (!keys) return { path, part: 'value', message: `${title}: ${error.message ?? 'invalid'}` };
      const present = keys.filter((k) => Object.hasOwn((error.data as object | null) ?? {}, k));
      const message =
        present.length === 0 ? `${title} needs one of: ${keys.join(', ')}` : `${title} takes only one of ${keys.join(', ')}, found ${present.join(' and ')}`;
      return { path, part: 'value', message };
    }
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return { path, part: 'value', message: `${title} is empty` };
    case 'maxProperties': {
      const keys = Object.keys((error.data as object | null) ?? {});
      return { path, part: 'value', message: `${title} takes ${String(params.limit)} key, found ${keys.join(' and ')}` };
    }
    default:
      return { path, part: 'value', message: `${title} ${error.message ?? 'is invalid'}` };
  }
}

/**
 * Every way the document departs from the mapping JSON Schema, positioned in the file. Wrapper
 * errors that only repeat a more precise one (if/then, the branches of a oneOf) are left out.
 */
export function shapeProblems(source: YamlSource): SourceProblem[] {
  const errors = validate(source.data);
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  return errors
    .filter((e) => e.keyword !== 'if' && !oneOfPaths.some((prefix) => e.schemaPath.startsWith(prefix)))
    .map((e) => {
      const { path, part, message } = explain(e);
      return source.problem(path, message, part);
    });
}
