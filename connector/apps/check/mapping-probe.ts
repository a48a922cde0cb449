/**
 * The mapping probe of `check`: the mapping file loads (which already proves its paths, transform
 * types and condition values against local reader schemas), and the mappings of topics without
 * one fit the registry's latest `<topic>-value` the same way, so a typo or a type mistake shows up
 * before any event flows. With a registry or a candidate schema it also says what the next schema
 * version breaks (schema-evolution-probe.ts).
 */
import type { Config } from '../../core/config.js';
import type { RegistryClient } from '../../adapters/registry/registry.js';
import { describeError, formatProblem, MappingError } from '../../core/errors.js';
import { type CompiledMapping } from '../../core/mapping/index.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { topicSchemas } from '../common/topic-schemas.js';
import { failed, passed, type ProbeResult } from '../common/probe.js';
import { checkSchemaEvolution, type SchemaEvolutionOptions } from './schema-evolution-probe.js';

/** The compiled mapping, or the failed `mapping` probe saying why it does not load. */
export async function loadCheckedMapping(config: Config): Promise<CompiledMapping | ProbeResult> {
  try {
    return await loadConfiguredMapping(config);
  } catch (err) {
    if (err instanceof MappingError) return failed('mapping', err.problems.map(formatProblem).join('; '));
    return failed('mapping', describeError(err).message);
  }
}

/**
 * Proves every mapped path exists in its topic's schema, with transforms and condition values
 * that fit its types, and holds the mapping against the candidate or registered schema versions
 * `evolution` asks for; lists every missing schema and every problem.
 */
export async function probeMappingSchemas(
  mapping: CompiledMapping,
  registry: RegistryClient | undefined,
  evolution: SchemaEvolutionOptions = {},
): Promise<ProbeResult> {
  const evolving = evolution.schemaFile !== undefined || registry !== undefined || evolution.allVersions === true;
  const schemas = await topicSchemas(mapping, registry, mapping.topics);
  const problems: string[] = [];
  let fromRegistry = 0;
  for (const schema of schemas) {
    if ('error' in schema) problems.push(schema.error);
    else if (schema.source === 'registry') {
      // Local reader schemas were checked by loadMapping; registry schemas only now.
      fromRegistry++;
      problems.push(...mapping.checkPaths(schema.topic, schema.type).map((p) => `${formatProblem(p)} (registry subject ${schema.topic}-value)`));
    }
  }
  const evolved = evolving ? await checkSchemaEvolution(mapping, registry, evolution) : undefined;
  problems.push(...(evolved?.problems ?? []));
  if (problems.length > 0) return failed('mapping', problems.join('; '));
  const local = schemas.length - fromRegistry;
  const fits = `${mapping.topics.length} topic(s); every path exists in its schema (${local} local, ${fromRegistry} from the registry)`;
  return passed('mapping', evolved ? `${fits}; nothing breaks against ${evolved.compared}` : fits);
}
