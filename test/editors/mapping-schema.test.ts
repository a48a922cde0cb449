import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { EntrySpec } from '../../connector/core/mapping/compile.js';
import type { ConditionSpec } from '../../connector/core/mapping/conditions.js';
import { compileTransforms, TRANSFORM_NAMES } from '../../connector/core/mapping/transforms.js';
import { transformSignature } from '../../connector/core/mapping/transform-types.js';
import { ROOT } from '../support/delivery-harness.js';

type Node = Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'mapping.schema.json'), 'utf8')) as Node & { definitions: Record<string, Node> };
const definitions = schema.definitions;

// Compile-time lists of what the compiler reads: adding a key to EntrySpec or ConditionSpec
// without listing it here is a type error, and the tests below then demand it in the schema.
const ENTRY_KEYS: Record<keyof EntrySpec, true> = {
  topic: true,
  schema: true,
  identity: true,
  when: true,
  attributes: true,
  expand: true,
  long_values: true,
  route: true,
};
const CONDITION_KEYS: Record<keyof ConditionSpec, true> = { path: true, in: true, not_in: true, equals: true, exists: true };

/** Every subschema with where it is (a JSON pointer), following properties, if/then/else, items... */
function subschemas(node: unknown, pointer = '#'): { pointer: string; node: Node }[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [];
  const here = node as Node;
  const found = [{ pointer, node: here }];
  for (const key of ['properties', 'definitions']) {
    for (const [name, child] of Object.entries((here[key] as Node | undefined) ?? {})) found.push(...subschemas(child, `${pointer}/${key}/${name}`));
  }
  for (const key of ['items', 'additionalProperties', 'if', 'then', 'else']) found.push(...subschemas(here[key], `${pointer}/${key}`));
  return found;
}

/** The definition a `{$ref}` node points at, or the node itself. */
function target(node: Node): Node {
  const ref = node.$ref;
  return typeof ref === 'string' ? (definitions[ref.replace('#/definitions/', '')] as Node) : node;
}

const keysOf = (name: string, branch?: 'then' | 'else') => {
  const node = definitions[name] as Node;
  return Object.keys(((branch ? (node[branch] as Node) : node).properties as Node | undefined) ?? {}).sort();
};

describe('schemas/mapping.schema.json covers what the mapping loader accepts', () => {
  it('every key of a mapping entry and of a condition', () => {
    expect(keysOf('mapping')).toEqual(Object.keys(ENTRY_KEYS).sort());
    expect(keysOf('condition')).toEqual(Object.keys(CONDITION_KEYS).sort());
    expect(keysOf('identity')).toEqual(['mbox3rdPartyId', 'mboxPC']);
  });

  it('every transform the compiler and the type checker know, and none they do not', () => {
    const transform = definitions.transform as { then: { enum: string[] }; else: { properties: Node } };
    expect([...transform.then.enum].sort()).toEqual([...TRANSFORM_NAMES].sort());
    const withArgument = Object.keys(transform.else.properties);
    expect(withArgument.sort()).toEqual(['join', 'lookup', 'round', 'truncate']);
    const platform = { sha256: (text: string) => text };
    const argumentOf: Node = { round: 2, join: ',', truncate: 3, lookup: { A: 'a' } };
    for (const name of [...transform.then.enum, ...withArgument]) {
      expect(transformSignature(name), name).toBeDefined();
      const spec = transform.then.enum.includes(name) ? name : { [name]: argumentOf[name] };
      expect(() => compileTransforms([spec], platform), name).not.toThrow();
    }
  });

  it('every key has a description and examples, on itself or on the definition it refers to', () => {
    const keys = subschemas(schema).filter(({ pointer }) => /\/properties\/[^/]+$/.test(pointer));
    expect(keys.length).toBeGreaterThan(25);
    const missing = keys.filter(({ node }) => {
      const described = (n: Node) => typeof n.description === 'string' && Array.isArray(n.examples) && n.examples.length > 0;
      return !described(node) && !described(target(node));
    });
    expect(missing.map((k) => k.pointer)).toEqual([]);
  });

  it('every example in the schema is valid where it is written', () => {
    const ajv = new Ajv({ allowUnionTypes: true });
    const withExamples = subschemas(schema).filter(({ node }) => Array.isArray(node.examples));
    expect(withExamples.length).toBeGreaterThan(30);
    const invalid = withExamples.flatMap(({ pointer, node }) => {
      const validate = ajv.compile({ ...node, definitions });
      return (node.examples as unknown[]).filter((example) => !validate(example)).map((example) => `${pointer}: ${JSON.stringify(example)}`);
    });
    expect(invalid).toEqual([]);
  });

  it('the shipped example mapping validates', () => {
    const validate = new Ajv({ allowUnionTypes: true }).compile(schema);
    const example = parse(readFileSync(join(ROOT, 'examples', 'mapping.yaml'), 'utf8')) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it('ships in the package', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schemas');
  });
});
