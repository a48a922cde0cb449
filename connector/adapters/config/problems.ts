/** Turns ajv's validation errors into SourceProblems a person can act on. */
import type { ErrorObject } from 'ajv';
import type { SourceProblem } from '../../core/errors.js';
import { describeExpected, describeFound } from './describe.js';
import type { DocumentPositions } from './positions.js';
import type { JsonSchema } from './spec.js';
import { closestMatch } from '../../core/suggest.js';

/** Keywords that judge a value itself; each becomes one "must be X, got Y" problem per field. */
const VALUE_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
]);

/** Splits a JSON pointer such as `/kafka/brokers/0` into its unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A field path as users write it: `delivery.concurrency`, `kafka.brokers[1]`. */
export function fieldName(segments: readonly string[], root: unknown): string {
  let name = '';
  let node: unknown = root;
  for (const segment of segments) {
    name += Array.isArray(node) ? `[${segment}]` : name === '' ? segment : `.${segment}`;
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return name;
}

function child(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

function unknownKeyMessage(key: string, schema: JsonSchema): string {
  const known = Object.keys(schema.properties ?? {});
  const guess = closestMatch(key, known);
  if (guess) return `unknown key "${key}" (did you mean "${guess}"?)`;
  return known.length > 0 ? `unknown key "${key}" (expected one of: ${known.join(', ')})` : `unknown key "${key}"`;
}

/** One problem per distinct finding; ajv's `verbose` option must be on (it supplies data and parentSchema). */
export function schemaProblems(errors: readonly ErrorObject[], file: string, data: unknown, positions: DocumentPositions): SourceProblem[] {
  const problems = new Map<string, SourceProblem>();
  for (const error of errors) {
    const segments = pointerSegments(error.instancePath);
    const field = fieldName(segments, data);
    const schema = (error.parentSchema ?? {}) as JsonSchema;
    let problem: SourceProblem;
    if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      problem = { file, ...positions.keyAt(segments), field: child(field, missing), message: 'is required' };
    } else if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      problem = { file, ...positions.keyAt([...segments, key]), field: child(field, key), message: unknownKeyMessage(key, schema) };
    } else if (VALUE_KEYWORDS.has(error.keyword)) {
      const message = `must be ${describeExpected(schema)}, got ${describeFound(error.data, schema.airbyte_secret === true)}`;
      problem = { file, ...positions.valueAt(segments), field: field || undefined, message };
    } else {
      problem = { file, ...positions.valueAt(segments), field: field || undefined, message: error.message ?? 'is invalid' };
    }
    // A field breaking two keywords of one expectation (say type and pattern) reads best once.
    problems.set(`${problem.field ?? ''}\0${problem.message}`, problem);
  }
  return [...problems.values()];
}
