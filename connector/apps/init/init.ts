/**
 * `init`: scaffolds a mapping for one topic from its Avro schema, and a first test case from a
 * seeded sample event whose outcome is recorded by running it through the pipeline, as `test`
 * would. Refuses to overwrite files unless forced. The schema is a local .avsc, or the latest
 * version of a subject in the config's registry, written beside the mapping as its reader schema.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Type } from 'avsc';
import { stringify } from 'yaml';
import { loadConfig } from '../../adapters/config/load.js';
import { loadMapping } from '../../adapters/mapping-file/load.js';
import { loadAvroSchema } from '../../adapters/mapping-file/schema-file.js';
import { createRegistryClient, valueSubject } from '../../adapters/registry/registry.js';
import { ConfigError, ConnectorError, describeError } from '../../core/errors.js';
import { sampleValue } from '../../core/mapping-init/sample-value.js';
import { scaffoldMapping } from '../../core/mapping-init/scaffold.js';
import { recordOutcomes } from '../../core/mapping-tests/snapshot.js';
import { runCaseEvent } from '../common/mapping-cases.js';
import type { RecordedTarget } from '../common/recording-delivery.js';

export interface InitOptions {
  /** The topic's .avsc; without it, `config` names the registry to fetch the schema from. */
  schema?: string;
  topic: string;
  /** A config whose schema_registry holds the topic's schema. */
  config?: string;
  /** The registry subject to take the latest version of (default `<topic>-value`). */
  subject?: string;
  identity?: string;
  /** Folder to write mapping.yaml and mapping.test.yaml into (default: the current one). */
  out?: string;
  force?: boolean;
  /** Seed of the sample event (default 1). */
  seed?: number;
}

export interface InitOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_OUTPUT: InitOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Only the request size limits matter here: the builder is never asked to send. */
const NO_TARGET: RecordedTarget = {
  client_code: 'init',
  base_url: 'https://init.tt.omtrdc.net',
  path: '/m2/{client_code}/profile/update',
  realtime: { path: '/rest/v1/delivery', mbox: 'target-profile-sink', channel: 'web' },
};

/** The package's schemas/mapping.schema.json, found above this module (source or dist). */
function mappingSchemaFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas', 'mapping.schema.json');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return candidate;
    dir = parent;
  }
}

/** A path from `folder` to `file` as YAML writes it: forward slashes, `./` for a neighbour. */
function relativeRef(folder: string, file: string): string {
  const path = relative(folder, file).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** The latest version of `subject` in the registry of the config file, and how to name it. */
async function registrySchema(configFile: string, subject: string): Promise<{ type: Type; label: string }> {
  const config = await loadConfig(configFile);
  if (!config.schema_registry) throw new ConfigError([{ file: configFile, message: 'has no schema_registry to fetch the schema from' }]);
  // One try: a person is waiting and will run it again.
  const registry = createRegistryClient(config.schema_registry, { attempts: 1 });
  try {
    const latest = await registry.latestVersion(subject);
    return { type: latest.type, label: `version ${latest.version} of subject ${subject} in ${registry.location}` };
  } finally {
    await registry.close();
  }
}

/** The test file text with its one case, expectation not yet recorded. */
function testFileText(topic: string, seed: number, value: unknown): string {
  const body = stringify({ cases: [{ name: `a sample event (seed ${seed}): check the recorded values`, topic, input: value }] }, { lineWidth: 0 });
  return [
    '# Test cases for mapping.yaml, run with `target-profile-sink test --config <your config>`.',
    '# The case below was recorded by `init` from a generated sample event: replace it with real',
    '# events. A case without updates/filtered/dead_letter is filled in by `test --update`.',
    body,
  ].join('\n');
}

/**
 * Writes the mapping and its test file. Returns the exit code: 0 when both were written and the
 * mapping loads, 1 when the mapping or the case could not be made, 2 when the arguments or the
 * files are the problem.
 */
export async function runInit(options: InitOptions, output: InitOutput = PROCESS_OUTPUT): Promise<number> {
  const folder = resolve(options.out ?? '.');
  const mappingFile = join(folder, 'mapping.yaml');
  const testFile = join(folder, 'mapping.test.yaml');
  const subject = options.subject ?? valueSubject(options.topic);
  // A fetched schema is kept beside the mapping: it becomes the mapping's reader schema.
  const schemaFile = options.schema !== undefined ? resolve(options.schema) : join(folder, `${subject}.avsc`);
  const written = options.schema !== undefined ? [mappingFile, testFile] : [schemaFile, mappingFile, testFile];
  const existing = written.filter((file) => existsSync(file));
  if (existing.length > 0 && !options.force) {
    output.err(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: not overwritten (--force to replace)\n`);
    return 2;
  }
  let type: Type;
  let fetched = '';
  try {
    if (options.schema !== undefined) {
      type = await loadAvroSchema(schemaFile);
    } else if (options.config === undefined) {
      throw new ConfigError([{ file: folder, message: 'init needs a schema: --schema F.avsc, or --config F to fetch it from its registry' }]);
    } else {
      const latest = await registrySchema(options.config, subject);
      type = latest.type;
      await mkdir(folder, { recursive: true });
      // exportAttrs keeps the docs the scaffold turns into comments.
      await writeFile(schemaFile, `${JSON.stringify(type.schema({ exportAttrs: true }), null, 2)}\n`);
      fetched = `wrote ${schemaFile} (${latest.label})\n`;
    }
  } catch (err) {
    output.err(`${describeError(err).message}\n`);
    return 2;
  }
  const scaffold = scaffoldMapping(type, {
    topic: options.topic,
    schemaPath: relativeRef(folder, schemaFile),
    mappingSchemaRef: relativeRef(folder, mappingSchemaFile()),
    ...(options.identity !== undefined && { identity: options.identity }),
  });
  if (!scaffold.ok) {
    output.err(`${scaffold.reason}\n`);
    return 2;
  }
  await mkdir(folder, { recursive: true });
  await writeFile(mappingFile, scaffold.text);
  try {
    // The real loader: the scaffold must pass the checks `run` and `check` make.
    const mapping = await loadMapping(mappingFile);
    const seed = options.seed ?? 1;
    const value = sampleValue(type, seed);
    const outcome = await runCaseEvent(mapping, NO_TARGET, options.topic, { kind: 'json', value }, false);
    await writeFile(testFile, recordOutcomes(testFileText(options.topic, seed, value), [{ index: 0, outcome }]));
  } catch (err) {
    output.err(`${err instanceof ConnectorError ? err.message : String(err)}\n`);
    return 1;
  }
  const guess = scaffold.guessed ? ` (guessed: check it, or name it with --identity)` : '';
  output.out(
    `${fetched}wrote ${mappingFile}\nwrote ${testFile}\nidentity: mbox3rdPartyId from ${scaffold.identity}${guess}\n` +
      'next: set mapping_file in your config to it, then run `target-profile-sink test --config <config>`\n',
  );
  return 0;
}
