import { Ajv } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DocumentPositions } from '../../../connector/adapters/config/positions.js';
import { schemaProblems } from '../../../connector/adapters/config/problems.js';
import type { JsonSchema } from '../../../connector/adapters/config/spec.js';

/** Validates YAML text against `schema` the way the loader does and returns the problems. */
function check(schema: JsonSchema, text: string) {
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
  ajv.addKeyword('airbyte_secret');
  const validate = ajv.compile(schema);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const data: unknown = doc.toJS();
  expect(validate(data)).toBe(false);
  return schemaProblems(validate.errors ?? [], 'f.yaml', data, new DocumentPositions(doc, lines));
}

const apiKey = (secret: boolean): JsonSchema => ({
  type: 'object',
  properties: {
    api: {
      type: 'object',
      properties: { key: { type: 'string', pattern: '^ak_', examples: ['ak_123'], airbyte_secret: secret } },
    },
  },
});

describe('schemaProblems', () => {
  it('quotes an ordinary value that breaks its pattern', () => {
    expect(check(apiKey(false), 'api:\n  key: sk_live_hunter2\n')).toEqual([
      { file: 'f.yaml', line: 2, column: 8, field: 'api.key', message: 'must be a string like "ak_123", got "sk_live_hunter2"' },
    ]);
  });

  it('names only the kind of a secret value that breaks its pattern', () => {
    expect(check(apiKey(true), 'api:\n  key: sk_live_hunter2\n')).toEqual([
      { file: 'f.yaml', line: 2, column: 8, field: 'api.key', message: 'must be a string like "ak_123", got a string' },
    ]);
  });

  it('reports a value breaking two keywords of one expectation once', () => {
    const code: JsonSchema = { type: 'string', minLength: 3, pattern: '^a', examples: ['abc'] };
    expect(check({ type: 'object', properties: { code } }, 'code: b\n')).toEqual([
      { file: 'f.yaml', line: 1, column: 7, field: 'code', message: 'must be a string like "abc", got "b"' },
    ]);
  });

  it('points a missing key at its parent key and an unknown key at itself', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        outer: { type: 'object', required: ['inner'], additionalProperties: false, properties: { inner: { type: 'string' } } },
      },
    };
    expect(check(schema, '# comment\nouter:\n  iner: x\n')).toEqual([
      { file: 'f.yaml', line: 2, column: 1, field: 'outer.inner', message: 'is required' },
      { file: 'f.yaml', line: 3, column: 3, field: 'outer.iner', message: 'unknown key "iner" (did you mean "inner"?)' },
    ]);
  });
});
