/** Loads a mapping file: YAML → JSON Schema check → semantic check → compiled closures. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Type } from 'avsc';
import { MappingError, type SourceProblem } from '../errors.js';
import { loadAvroSchema } from '../decode/schema-file.js';
import { compileEntry, type CompiledEntry, type EntrySpec } from './compile.js';
import { shapeProblems } from './shape.js';
import { schemaProblems, type PathUse } from './static-check.js';
import type { Config } from '../config/types.js';
import type { CompiledMapping, LongValuesPolicy } from './types.js';
import { formatField, YamlSource, type FieldPath } from './yaml-source.js';

export interface LoadMappingOptions {
  /** Policy for values over 256 characters where a mapping sets no `long_values` (config: target.long_values). */
  longValues?: LongValuesPolicy;
}

function byPosition(a: SourceProblem, b: SourceProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function isEntry(value: unknown): value is EntrySpec {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Loads the reader schemas named by `schema:` keys, one per topic; reports unreadable or conflicting ones. */
async function loadReaderSchemas(
  source: YamlSource,
  specs: readonly (EntrySpec | undefined)[],
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
    if (!loaded.has(file)) loaded.set(file, loadAvroSchema(file).catch((err: MappingError) => err));
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
  const source = new YamlSource(file, text);
  if (source.syntaxProblems.length > 0) throw new MappingError(source.syntaxProblems);

  const problems = shapeProblems(source);
  const shapeFields = problems.map((p) => p.field ?? '');
  const hasShapeProblem = (path: FieldPath, scope: 'at' | 'within' = 'within'): boolean => {
    const field = formatField(path);
    if (scope === 'at') return shapeFields.includes(field);
    return shapeFields.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));
  };

  const listed = (source.data as { mappings?: unknown } | null)?.mappings;
  const specs = (Array.isArray(listed) ? listed : []).map((spec) => (isEntry(spec) ? spec : undefined));
  const context = { source, longValues: options.longValues ?? 'truncate', hasShapeProblem };
  const entries: CompiledEntry[] = [];
  const pathsByTopic: { topic: unknown; paths: PathUse[] }[] = [];
  specs.forEach((spec, index) => {
    if (!spec) return;
    const compiled = compileEntry(context, index, spec);
    problems.push(...compiled.problems);
    pathsByTopic.push({ topic: spec.topic, paths: compiled.paths });
    if (compiled.entry) entries.push(compiled.entry);
  });

  const { schemas, problems: readerSchemaProblems } = await loadReaderSchemas(source, specs, hasShapeProblem);
  problems.push(...readerSchemaProblems);
  for (const { topic, paths } of pathsByTopic) {
    const schema = typeof topic === 'string' ? schemas.get(topic) : undefined;
    if (schema) problems.push(...schemaProblems(paths, schema));
  }
  if (problems.length > 0) throw new MappingError(problems.sort(byPosition));

  const byTopic = new Map<string, CompiledEntry[]>();
  for (const entry of entries) {
    const list = byTopic.get(entry.topic) ?? [];
    list.push(entry);
    byTopic.set(entry.topic, list);
  }
  return {
    file,
    topics: [...byTopic.keys()],
    readerSchema: (topic) => schemas.get(topic),
    mapEvent(topic, value) {
      return (byTopic.get(topic) ?? []).map((entry) => entry.map(value));
    },
    checkPaths: (topic, type) => (byTopic.get(topic) ?? []).flatMap((entry) => schemaProblems(entry.paths, type)),
  };
}

/** The mapping a config names, with the config's policy for long values. */
export function loadConfiguredMapping(config: Pick<Config, 'mapping_file' | 'target'>): Promise<CompiledMapping> {
  return loadMapping(config.mapping_file, { longValues: config.target.long_values });
}

/** The reader schema of every mapped topic that names one, as the decoder takes them. */
export function readerSchemasOf(mapping: CompiledMapping): Map<string, Type> {
  return new Map(
    mapping.topics.flatMap((topic) => {
      const type = mapping.readerSchema(topic);
      return type ? [[topic, type] as const] : [];
    }),
  );
}
