/**
 * A mapping document compiled into per-topic functions, checked against the reader schemas its
 * entries name. Pure: the mapping-file adapter reads the file and the schema files.
 */
import type { Type } from 'avsc';
import { MappingError, type SourceProblem } from '../errors.js';
import { compileEntry, type CompiledEntry, type EntrySpec } from './compile.js';
import { projectReaderSchema } from './projection.js';
import { shapeProblems } from './shape.js';
import { schemaProblems, type PathUse } from './static-check.js';
import type { TransformPlatform } from './transforms.js';
import type { CompiledMapping, LongValuesPolicy } from './types.js';
import { formatField, YamlSource, type FieldPath } from './yaml-source.js';

/** A mapping file parsed and shape-checked, before its schemas are known. */
export interface MappingDocument {
  source: YamlSource;
  /** One per `mappings` item; undefined where the item is not an object. */
  specs: ReadonlyArray<EntrySpec | undefined>;
  /** Problems of the document's shape (JSON Schema). */
  problems: SourceProblem[];
  /** True when the shape check reported a problem at `path` (`at`) or at or under it (`within`). */
  hasShapeProblem(path: FieldPath, scope?: 'at' | 'within'): boolean;
}

export interface CompileMappingOptions {
  /** Policy for values over 256 characters where a mapping sets no `long_values`. */
  longValues: LongValuesPolicy;
  platform: TransformPlatform;
}

function byPosition(a: SourceProblem, b: SourceProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function isEntry(value: unknown): value is EntrySpec {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses mapping text named `file`; throws MappingError for YAML syntax errors, collects shape problems. */
export function parseMappingDocument(file: string, text: string): MappingDocument {
  const source = new YamlSource(file, text);
  if (source.syntaxProblems.length > 0) throw new MappingError(source.syntaxProblems);
  const problems = shapeProblems(source);
  const shapeFields = problems.map((p) => p.field ?? '');
  const listed = (source.data as { mappings?: unknown } | null)?.mappings;
  return {
    source,
    specs: (Array.isArray(listed) ? listed : []).map((spec) => (isEntry(spec) ? spec : undefined)),
    problems,
    hasShapeProblem(path, scope = 'within') {
      const field = formatField(path);
      if (scope === 'at') return shapeFields.includes(field);
      return shapeFields.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));
    },
  };
}

/**
 * Compiles the document with the reader schemas of its topics (and the problems met loading
 * them). Throws MappingError listing every problem of the file, each with file:line:column,
 * including paths, transforms and condition values that do not fit the reader schemas.
 */
export function compileMapping(
  doc: MappingDocument,
  schemas: ReadonlyMap<string, Type>,
  schemaLoadProblems: readonly SourceProblem[],
  options: CompileMappingOptions,
): CompiledMapping {
  const problems = [...doc.problems];
  const context = { source: doc.source, longValues: options.longValues, platform: options.platform, hasShapeProblem: doc.hasShapeProblem };
  const entries: CompiledEntry[] = [];
  const pathsByTopic: { topic: unknown; paths: PathUse[] }[] = [];
  doc.specs.forEach((spec, index) => {
    if (!spec) return;
    const compiled = compileEntry(context, index, spec);
    problems.push(...compiled.problems);
    pathsByTopic.push({ topic: spec.topic, paths: compiled.paths });
    if (compiled.entry) entries.push(compiled.entry);
  });
  problems.push(...schemaLoadProblems);
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
    file: doc.source.file,
    topics: [...byTopic.keys()],
    routes: [...new Set(entries.map((entry) => entry.route))],
    readerSchema: (topic) => schemas.get(topic),
    mapEvent(topic, value) {
      return (byTopic.get(topic) ?? []).map((entry) => entry.map(value));
    },
    checkPaths: (topic, type) => (byTopic.get(topic) ?? []).flatMap((entry) => schemaProblems(entry.paths, type)),
    pathUses: (topic) => (byTopic.get(topic) ?? []).flatMap((entry) => entry.paths),
  };
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

/**
 * Per mapped topic with a reader schema, that schema narrowed to the fields the topic's mappings
 * read (see projection.ts), for the decoder; topics where no field can be left out are absent.
 */
export function projectedSchemasOf(mapping: CompiledMapping): Map<string, Type> {
  const projected = new Map<string, Type>();
  for (const [topic, type] of readerSchemasOf(mapping)) {
    const narrowed = projectReaderSchema(
      type,
      mapping.pathUses(topic).map((use) => use.segments),
    );
    if (narrowed) projected.set(topic, narrowed);
  }
  return projected;
}
