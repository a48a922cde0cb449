/** Loads a mapping file: YAML → JSON Schema check → semantic check → compiled closures. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Type } from 'avsc';
import { hash } from 'node:crypto';
import type { Config } from '../../core/config.js';
import { MappingError, type SourceProblem } from '../../core/errors.js';
import type { EntrySpec } from '../../core/mapping/compile.js';
import { compileMapping, parseMappingDocument } from '../../core/mapping/compile-mapping.js';
import type { TransformPlatform } from '../../core/mapping/transforms.js';
import type { CompiledMapping, LongValuesPolicy } from '../../core/mapping/types.js';
import type { FieldPath, YamlSource } from '../../core/mapping/yaml-source.js';
import { loadAvroSchema } from './schema-file.js';

export interface LoadMappingOptions {
  /** Policy for values over 256 characters where a mapping sets no `long_values` (config: target.long_values). */
  longValues?: LongValuesPolicy;
}

/** Loads the reader schemas named by `schema:` keys, one per topic; reports unreadable or conflicting ones. */
async function loadReaderSchemas(
  source: YamlSource,
  specs: ReadonlyArray<EntrySpec | undefined>,
  skip: (path: FieldPath) => boolean,
): Promise<{ schemas: Map<string, Type>; problems: SourceProblem[] }> {
  const problems: SourceProblem[] = [];
  const fileOfTopic = new Map<string, string>();
  const uses: { topic: string; file: string; field: FieldPath; written: string }[] = [];
  specs.forEach((spec, index) => {
    const field: FieldPath = ['mappings', index, 'schema'];
    if (!spec || typeof spec.schema !== 'string' || typeof spec.topic !== 'string' || skip(field)) return;
    const file = resolve(dirname(source.file), spec.schema);
    const earlier = fileOfTopic.get(spec.topic);
    if (earlier !== undefined && earlier !== file) {
      problems.push(source.problem(field, `topic ${spec.topic} already uses schema ${earlier}; one topic has one reader schema`));
      return;
    }
    fileOfTopic.set(spec.topic, file);
    uses.push({ topic: spec.topic, file, field, written: spec.schema });
  });
  const loaded = new Map<string, Promise<Type | MappingError>>();
  for (const { file } of uses) {
    if (!loaded.has(file))
      loaded.set(
        file,
        loadAvroSchema(file).catch((err: MappingError) => err),
      );
  }
  const schemas = new Map<string, Type>();
  for (const { topic, file, field, written } of uses) {
    const result = await (loaded.get(file) as Promise<Type | MappingError>);
    if (result instanceof MappingError) {
      for (const inner of result.problems) problems.push(source.problem(field, `schema ${written}: ${inner.message}`));
    } else {
      schemas.set(topic, result);
    }
  }
  return { schemas, problems };
}

/** Node's native hashing, for the `sha256` transform. */
export const NODE_PLATFORM: TransformPlatform = { sha256: (text) => hash('sha256', text, 'hex') };

/**
 * Loads and compiles a mapping file. Throws MappingError listing every problem of the file, each
 * with file:line:column, including paths, transforms and condition values that do not fit the
 * mappings' reader schemas.
 */
export async function loadMapping(file: string, options: LoadMappingOptions = {}): Promise<CompiledMapping> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MappingError([{ file, message: `cannot read mapping file: ${(err as Error).message}` }]);
  }
  const doc = parseMappingDocument(file, text);
  const { schemas, problems } = await loadReaderSchemas(doc.source, doc.specs, doc.hasShapeProblem);
  return compileMapping(doc, schemas, problems, { longValues: options.longValues ?? 'truncate', platform: NODE_PLATFORM });
}

/** The mapping a config names, with the config's policy for long values. */
export function loadConfiguredMapping(config: Pick<Config, 'mapping_file' | 'target'>): Promise<CompiledMapping> {
  return loadMapping(config.mapping_file, { longValues: config.target.long_values });
}
