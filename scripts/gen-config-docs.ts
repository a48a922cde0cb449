/**
 * Writes docs/configuration.md, the configuration reference, from spec.json.
 * `tsx scripts/gen-config-docs.ts --check` exits 1 instead when the file is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSpec, SPEC_PATH, type ConnectorSpec, type JsonSchema, type JsonType } from '../connector/adapters/config/spec.js';

/** Where the generated reference lives. */
export const DOCS_PATH = join(dirname(SPEC_PATH), 'docs', 'configuration.md');

interface Row {
  key: string;
  schema: JsonSchema;
  required: boolean;
}

function rows(schema: JsonSchema, prefix = ''): Row[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const key = prefix + name;
    return [{ key, schema: child, required: schema.required?.includes(name) ?? false }, ...rows(child, `${key}.`)];
  });
}

function typeName(schema: JsonSchema, type: JsonType): string {
  const { minimum: min, maximum: max } = schema;
  switch (type) {
    case 'integer':
    case 'number':
      if (min !== undefined && max !== undefined) return `${type} ${min}–${max}`;
      if (min !== undefined) return `${type} ≥ ${min}`;
      return max !== undefined ? `${type} ≤ ${max}` : type;
    case 'string':
      return schema.enum ? schema.enum.map((v) => `\`${String(v)}\``).join(' / ') : 'string';
    case 'array':
      return schema.items ? `list of ${typeName(schema.items, firstType(schema.items))}` : 'list';
    default:
      return type;
  }
}

function firstType(schema: JsonSchema): JsonType {
  return (Array.isArray(schema.type) ? schema.type[0] : schema.type) ?? 'string';
}

function types(schema: JsonSchema): string {
  const list: JsonType[] = Array.isArray(schema.type) ? schema.type : [firstType(schema)];
  return list.map((t) => typeName(schema, t)).join(' or ');
}

function defaultValue(schema: JsonSchema): string {
  // An object's `{}` default only exists so that its members' defaults apply; it says nothing.
  if (schema.default === undefined || firstType(schema) === 'object') return '';
  return `\`${JSON.stringify(schema.default)}\``;
}

/** Escapes what would break a table cell or vanish as an HTML tag. */
function cell(text: string): string {
  return text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\n\s*/g, ' ');
}

// Hand-written: an example reads better than one generated from the defaults.
const EXAMPLE_CONFIG = [
  'kafka:',
  '  brokers: ${KAFKA_BROKERS:-127.0.0.1:9092}   # a list, or one comma-separated string',
  '  group_id: target-profile-sink',
  '  from_beginning: false',
  '  sasl: { mechanism: scram-sha-512, username: sink, password: ${KAFKA_PASSWORD} }',
  'schema_registry:                 # optional: values carry the Confluent framing',
  '  url: http://127.0.0.1:8081',
  'target:',
  '  client_code: acme              # base_url defaults to https://acme.tt.omtrdc.net',
  '  path: /m2/{client_code}/profile/update',
  '  timeout_ms: 10000',
  'mapping_file: mapping.yaml       # relative to this file',
  'delivery:',
  '  concurrency: 32',
  '  daily_quota: 1000000',
  '  max_attempts: 12',
  '  max_backoff_ms: 60000',
  '  max_pending: 10000',
  '  dead_letter_topic: target-profile-sink.dlq',
  'metrics: { port: 9464 }',
];

/** The whole Markdown reference for `spec`. */
export function renderConfigDocs(spec: ConnectorSpec): string {
  const root = spec.connectionSpecification;
  const table = rows(root).map(({ key, schema, required }) =>
    [`\`${key}\``, cell(types(schema)), defaultValue(schema), required ? 'yes' : '', schema.airbyte_secret ? 'yes' : '', cell(schema.description ?? '')].join(
      ' | ',
    ),
  );
  return [
    '<!-- Generated from spec.json by scripts/gen-config-docs.ts; edit spec.json and run `npx tsx scripts/gen-config-docs.ts`. -->',
    '# Configuration reference',
    '',
    cell(root.description ?? ''),
    '',
    'The config file is YAML or JSON and is checked against `spec.json` before anything starts;',
    'every problem is reported at once with its `file:line:column` and field:',
    '',
    '```',
    'config.yaml:4:13 delivery.concurency: unknown key "concurency" (did you mean "concurrency"?)',
    'config.yaml:4:41 delivery.max_pending: must be an integer ≥ 1, got "many"',
    '```',
    '',
    'An example with the main sections (every key is in the table below):',
    '',
    '```yaml',
    ...EXAMPLE_CONFIG,
    '```',
    '',
    '- `${VAR}` reads an environment variable and fails when it is unset; `${VAR:-default}` falls back',
    '  to `default` when it is unset or empty. A variable fills a number or true/false field too.',
    '- Relative file paths (`mapping_file`, `kafka.ssl.ca`, `kafka.ssl.cert`, `kafka.ssl.key`) are',
    '  resolved from the folder of the config file.',
    '- A key left empty (`host:`) counts as absent, so its default applies.',
    '- Secret fields are never logged and are shown as `***` by `check`.',
    '- "Required" applies when the enclosing section is present.',
    '',
    '| Key | Type | Default | Required | Secret | Description |',
    '|---|---|---|---|---|---|',
    ...table.map((line) => `| ${line} |`),
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { check: { type: 'boolean', default: false }, out: { type: 'string', default: DOCS_PATH } },
  });
  const out = resolve(values.out);
  const expected = renderConfigDocs(loadSpec());
  if (!values.check) {
    await writeFile(out, expected);
    return 0;
  }
  const actual = await readFile(out, 'utf8').catch(() => undefined);
  if (actual === expected) return 0;
  process.stderr.write(`${out} is out of date with spec.json; run: npx tsx scripts/gen-config-docs.ts\n`);
  return 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
