/**
 * The schema-evolution part of `check`'s mapping probe: the mapping against the next schema before
 * it is deployed, a candidate .avsc for one topic (`--schema-file F --topic T`), or the registry's
 * latest version of each mapped topic's subject (every registered version with `--all-versions`).
 */
import type { Type } from 'avsc';
import { loadAvroSchema } from '../../adapters/mapping-file/schema-file.js';
import { valueSubject, type RegistryClient } from '../../adapters/registry/registry.js';
import { describeError, formatProblem, MappingError, RegistryUnavailableError } from '../../core/errors.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import { evolutionProblems } from '../../core/mapping/schema-evolution.js';

/** Which schemas to hold the mapping against, besides the ones it is read with today. */
export interface SchemaEvolutionOptions {
  /** A candidate writer schema (.avsc) for `topic`. */
  schemaFile?: string;
  topic?: string;
  /** Every registered version of each subject instead of the latest. */
  allVersions?: boolean;
}

/** A writer schema to check one topic's mappings against, and how the report names it. */
interface Candidate {
  topic: string;
  label: string;
  type: Type;
}

/** What the check found: one line per problem, and what the mapping was held against. */
export interface EvolutionFindings {
  problems: string[];
  compared: string;
}

async function fileCandidate(mapping: CompiledMapping, file: string, topic: string): Promise<Candidate | string> {
  if (!mapping.topics.includes(topic)) {
    return `--topic ${topic} is not mapped in ${mapping.file} (its topics: ${mapping.topics.join(', ')})`;
  }
  try {
    return { topic, label: `candidate schema ${file}`, type: await loadAvroSchema(file) };
  } catch (err) {
    return err instanceof MappingError ? err.problems.map(formatProblem).join('; ') : describeError(err).message;
  }
}

/**
 * The registry's versions of one topic's subject to check: the latest (every one with
 * `allVersions`) for a topic read with a reader schema. A topic without one is read with each
 * event's writer schema, and the mapping probe already holds it against the latest version, so
 * only `allVersions` adds the older ones. A subject the registry does not have gives none: a
 * topic with a reader schema may not be registered yet, and one without is already reported by
 * the mapping probe as having no schema. An unreachable registry gives `unavailable`: the registry
 * probe reports it, the mapping probe only says what it could not check.
 */
async function registryCandidates(
  registry: RegistryClient,
  topic: string,
  hasReader: boolean,
  allVersions: boolean,
): Promise<Candidate[] | string | 'unavailable'> {
  if (!hasReader && !allVersions) return [];
  const subject = valueSubject(topic);
  try {
    const versions = await registry.versions(subject);
    const chosen = allVersions ? versions.slice(0, hasReader ? undefined : -1) : versions.slice(-1);
    const found = await Promise.all(chosen.map((version) => registry.version(subject, version)));
    return found.map(({ version, type }) => ({ topic, label: `registry subject ${subject} version ${version}`, type }));
  } catch (err) {
    return err instanceof RegistryUnavailableError ? 'unavailable' : `topic ${topic}: ${describeError(err).message}`;
  }
}

/** The candidates the options ask for, and the problems met finding them. */
async function candidatesOf(
  mapping: CompiledMapping,
  registry: RegistryClient | undefined,
  options: SchemaEvolutionOptions,
): Promise<{ candidates: Candidate[]; problems: string[]; compared: string }> {
  if (options.schemaFile !== undefined && options.topic !== undefined) {
    const found = await fileCandidate(mapping, options.schemaFile, options.topic);
    const compared = `candidate schema ${options.schemaFile} for topic ${options.topic}`;
    return typeof found === 'string' ? { candidates: [], problems: [found], compared } : { candidates: [found], problems: [], compared };
  }
  if (!registry) {
    return { candidates: [], problems: ['--all-versions needs a schema_registry in the config'], compared: 'no registry' };
  }
  const allVersions = options.allVersions === true;
  const found = await Promise.all(mapping.topics.map((topic) => registryCandidates(registry, topic, mapping.readerSchema(topic) !== undefined, allVersions)));
  const candidates = found.flatMap((f) => (typeof f === 'string' ? [] : f));
  const subjects = new Set(candidates.map((c) => c.topic)).size;
  const which = allVersions ? 'registered version(s)' : 'latest version(s)';
  const unavailable = found.filter((f) => f === 'unavailable').length;
  const unchecked = unavailable > 0 ? ` (the versions of ${unavailable} topic(s) not checked: registry unavailable)` : '';
  return {
    candidates,
    problems: found.flatMap((f) => (typeof f === 'string' && f !== 'unavailable' ? [f] : [])),
    compared: `${candidates.length} ${which} of ${subjects} registry subject(s)${unchecked}`,
  };
}

/**
 * Holds every mapped topic's mappings against its candidate writer schemas: paths gone, types
 * changed under a transform, enum symbols gone, and whether the reader schema can still read it.
 * Each problem names the mapping file:line:column and the schema version it comes from.
 */
export async function checkSchemaEvolution(
  mapping: CompiledMapping,
  registry: RegistryClient | undefined,
  options: SchemaEvolutionOptions,
): Promise<EvolutionFindings> {
  const { candidates, problems, compared } = await candidatesOf(mapping, registry, options);
  for (const { topic, label, type } of candidates) {
    const found = evolutionProblems({ file: mapping.file, uses: mapping.pathUses(topic), writer: type, reader: mapping.readerSchema(topic) });
    problems.push(...found.map((p) => `${formatProblem(p)} (${label})`));
  }
  return { problems, compared };
}
