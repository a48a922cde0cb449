/**
 * The Avro schema of each mapped topic, as `check`, `discover` and `write` need it: the mapping's
 * reader schema when it names one, else the registry's latest `<topic>-value`.
 */
import type { Type } from 'avsc';
import { valueSubject, type RegistryClient } from '../../adapters/registry/registry.js';
import { describeError, MappingError } from '../../core/errors.js';
import type { CompiledMapping } from '../../core/mapping/index.js';

/** One topic's schema and where it came from, or why there is none. */
export type TopicSchema = { topic: string; type: Type; source: 'mapping' | 'registry' } | { topic: string; error: string };

/** Looks up every topic's schema concurrently; failures are per topic, never thrown. */
export async function topicSchemas(mapping: CompiledMapping, registry: RegistryClient | undefined, topics: readonly string[]): Promise<TopicSchema[]> {
  return Promise.all(
    topics.map(async (topic): Promise<TopicSchema> => {
      const local = mapping.readerSchema(topic);
      if (local) return { topic, type: local, source: 'mapping' };
      if (!registry) {
        return { topic, error: `topic ${topic} has no schema: the mapping names none and no schema_registry is configured` };
      }
      try {
        return { topic, type: (await registry.latestVersion(valueSubject(topic))).type, source: 'registry' };
      } catch (err) {
        return { topic, error: `topic ${topic}: ${describeError(err).message}` };
      }
    }),
  );
}

/** The schemas by topic; throws a MappingError naming every topic without one. */
export function requireSchemas(mapping: CompiledMapping, schemas: readonly TopicSchema[]): Map<string, Type> {
  const problems = schemas.flatMap((s) => ('error' in s ? [{ file: mapping.file, message: s.error }] : []));
  if (problems.length > 0) throw new MappingError(problems);
  return new Map(schemas.flatMap((s) => ('type' in s ? [[s.topic, s.type] as const] : [])));
}
