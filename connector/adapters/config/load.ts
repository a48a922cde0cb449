/** Reads a JSON or YAML config file into the validated, defaulted Config, or reports every problem. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type SourceProblem } from '../../core/errors.js';
import { describeUnresolved, maskReferences, resolveReferences, unmaskReferences, type EnvReference } from './env.js';
import { DocumentPositions, keyName } from './positions.js';
import { fieldName, schemaProblems } from './problems.js';
import { loadSpec } from './spec.js';
import type { Config, KafkaConfig, TargetConfig } from '../../core/config.js';

export { redactConfig } from './redact.js';

/** The data as the schema leaves it: defaults applied, but shorthands not yet expanded. */
type ValidatedData = Omit<Config, 'source_file' | 'kafka' | 'target'> & {
  kafka: Omit<KafkaConfig, 'brokers'> & { brokers: string[] | string };
  target: Omit<TargetConfig, 'base_url'> & { base_url?: string };
};

// Compiling the schema costs far more than validating; do it once per process.
let validator: ValidateFunction | undefined;

function specValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({
      allErrors: true,
      useDefaults: true,
      // Values read from the environment are strings; `port: ${METRICS_PORT}` must still be a number.
      coerceTypes: true,
      allowUnionTypes: true,
      verbose: true,
    });
    ajv.addKeyword('airbyte_secret');
    validator = ajv.compile(loadSpec().connectionSpecification);
  }
  return validator;
}

interface EnvProblem {
  path: string[];
  ref: EnvReference;
}

/** Resolves the masked references in every string value, in place; map keys get their text back. */
function substituteEnv(doc: Document, references: EnvReference[], env: NodeJS.ProcessEnv): EnvProblem[] {
  const problems: EnvProblem[] = [];
  if (references.length === 0) return problems;
  const visit = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && typeof pair.key.value === 'string') {
          pair.key.value = unmaskReferences(pair.key.value, references);
        }
        visit(pair.value, [...path, keyName(pair.key)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, String(i)]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const { value, unresolved } = resolveReferences(node.value, references, env);
      node.value = value;
      for (const ref of unresolved) problems.push({ path, ref });
    }
  };
  visit(doc.contents, []);
  return problems;
}

/** Removes keys left empty (`host:`), so they read as absent: defaults apply, required keys say so. */
function withoutEmptyKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, child]) => child !== null && child !== undefined)
        .map(([key, child]) => [key, withoutEmptyKeys(child)]),
    );
  }
  return value;
}

/** Checks between fields that JSON Schema cannot express. */
function crossFieldProblems(data: ValidatedData, file: string, positions: DocumentPositions): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const { initial_backoff_ms: initial, max_backoff_ms: max, bulk } = data.delivery;
  if (initial > max) {
    problems.push({
      file,
      ...positions.valueAt(['delivery', 'initial_backoff_ms']),
      field: 'delivery.initial_backoff_ms',
      message: `must be ≤ delivery.max_backoff_ms (${max}), got ${initial}`,
    });
  }
  const store = data.delivery.quota_store;
  if (store.kind === 'redis' && store.url === undefined) {
    problems.push({
      file,
      ...positions.valueAt(['delivery', 'quota_store', 'kind']),
      field: 'delivery.quota_store.url',
      message: 'is required with kind: redis (e.g. redis://redis:6379)',
    });
  }
  if (bulk.exit_lag >= bulk.enter_lag) {
    problems.push({
      file,
      ...positions.valueAt(['delivery', 'bulk', 'exit_lag']),
      field: 'delivery.bulk.exit_lag',
      message: `must be below delivery.bulk.enter_lag (${bulk.enter_lag}), got ${bulk.exit_lag}: the route would flap`,
    });
  }
  return problems;
}

/** Expands shorthands, fills derived defaults and makes file paths absolute. */
function complete(data: ValidatedData, file: string): Config {
  const source = resolve(file);
  const folder = dirname(source);
  const { kafka, target } = data;
  const brokers = typeof kafka.brokers === 'string' ? kafka.brokers.split(',').map((b) => b.trim()) : kafka.brokers;
  const ssl =
    typeof kafka.ssl === 'object'
      ? {
          ...kafka.ssl,
          ...(kafka.ssl.ca !== undefined && { ca: resolve(folder, kafka.ssl.ca) }),
          ...(kafka.ssl.cert !== undefined && { cert: resolve(folder, kafka.ssl.cert) }),
          ...(kafka.ssl.key !== undefined && { key: resolve(folder, kafka.ssl.key) }),
        }
      : kafka.ssl;
  // A trailing slash would double up with the path template's leading one.
  const baseUrl = (target.base_url ?? `https://${target.client_code}.tt.omtrdc.net`).replace(/\/+$/, '');
  return {
    ...data,
    source_file: source,
    kafka: { ...kafka, brokers, ssl },
    target: { ...target, base_url: baseUrl },
    mapping_file: resolve(folder, data.mapping_file),
  };
}

function byPosition(a: SourceProblem, b: SourceProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** Parses config text (JSON or YAML) named `file`; throws a ConfigError listing every problem. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const masked = maskReferences(text);
  const lines = new LineCounter();
  // prettyErrors off: the pretty form quotes source lines, which may hold secrets.
  const doc = parseDocument(masked.text, { lineCounter: lines, prettyErrors: false });
  const positions = new DocumentPositions(doc, lines);
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, ...positions.at(e.pos[0]), message: `not valid YAML or JSON: ${e.message}` })));
  }

  const envProblems = substituteEnv(doc, masked.references, env);
  const data = withoutEmptyKeys(doc.toJS());
  const validate = specValidator();
  const valid = validate(data);

  const problems: SourceProblem[] = envProblems.map(({ path, ref }) => ({
    file,
    ...positions.at(ref.offset),
    field: fieldName(path, data) || undefined,
    message: describeUnresolved(ref),
  }));
  // A field whose variable is missing already has its problem; its empty stand-in would add noise.
  const reported = new Set(problems.map((p) => p.field));
  problems.push(...schemaProblems(validate.errors ?? [], file, data, positions).filter((p) => !reported.has(p.field)));
  if (valid) problems.push(...crossFieldProblems(data as ValidatedData, file, positions));
  if (problems.length > 0) throw new ConfigError(problems.sort(byPosition));

  return complete(data as ValidatedData, file);
}

/** Reads and parses the config file at `path`; problems name the file as given. */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([{ file: path, message: `cannot read the config file: ${reason}` }]);
  }
  return parseConfig(text, path, env);
}
