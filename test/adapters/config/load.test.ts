import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type SourceProblem } from '../../../connector/core/errors.js';
import { loadConfig, parseConfig } from '../../../connector/adapters/config/load.js';
import { loadSpec, type JsonSchema } from '../../../connector/adapters/config/spec.js';
import type { Config } from '../../../connector/core/config.js';
import { testTempDir } from '../../support/test-run.js';

/** The problems a config text produces, without the file name (always `c.yaml` here). */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): Omit<SourceProblem, 'file'>[] {
  try {
    parseConfig(text, 'c.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(({ file, ...rest }) => {
      expect(file).toBe('c.yaml');
      return rest;
    });
  }
  throw new Error('expected a ConfigError');
}

const minimal = `kafka:
  brokers: [127.0.0.1:9092]
target:
  client_code: acme
mapping_file: mapping.yaml
`;

describe('parseConfig', () => {
  it('applies every default of the contract to a minimal YAML config', () => {
    expect(parseConfig(minimal, '/etc/tps/config.yaml', {})).toEqual({
      source_file: '/etc/tps/config.yaml',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        group_id: 'target-profile-sink',
        client_id: 'target-profile-sink',
        from_beginning: false,
        ssl: false,
        session_timeout_ms: 30000,
      },
      target: {
        client_code: 'acme',
        base_url: 'https://acme.tt.omtrdc.net',
        path: '/m2/{client_code}/profile/update',
        bulk_path: '/m2/{client_code}/v2/profile/batchUpdate',
        timeout_ms: 10000,
        long_values: 'truncate',
        realtime: { path: '/rest/v1/delivery', mbox: 'target-profile-sink', channel: 'web' },
      },
      mapping_file: '/etc/tps/mapping.yaml',
      delivery: {
        concurrency: 32,
        daily_quota: 1000000,
        quota_window_ms: 86400000,
        max_attempts: 12,
        initial_backoff_ms: 200,
        breaker_threshold: 5,
        max_backoff_ms: 60000,
        max_pending: 10000,
        commit_interval_ms: 1000,
        shutdown_timeout_ms: 30000,
        quota_store: { kind: 'local', key_prefix: 'target-profile-sink', tls: false },
        bulk: {
          mode: 'off',
          enter_lag: 50000,
          exit_lag: 5000,
          max_rows: 500000,
          max_bytes: 50000000,
          linger_ms: 2000,
          poll_interval_ms: 2000,
          status_timeout_ms: 3600000,
          max_attempts: 5,
          calls_per_minute: 50,
          max_pending: 1000000,
          remember_profiles: 1000000,
        },
        realtime: {},
      },
      metrics: { port: 9464, host: '0.0.0.0' },
    } satisfies Config);
  });

  it('reads JSON the same as YAML', () => {
    const json = JSON.stringify({ kafka: { brokers: ['127.0.0.1:9092'] }, target: { client_code: 'acme' }, mapping_file: 'mapping.yaml' }, null, '\t');
    expect(parseConfig(json, '/etc/tps/config.json', {})).toEqual({
      ...parseConfig(minimal, '/etc/tps/config.yaml', {}),
      source_file: '/etc/tps/config.json',
    });
  });

  it('keeps explicit values, trims a trailing slash off base_url and splits a broker string', () => {
    const config = parseConfig(
      `kafka: { brokers: "b1:9092, b2:9093", ssl: { ca: certs/ca.pem, rejectUnauthorized: false } }
target: { client_code: acme, base_url: "http://127.0.0.1:8080/", long_values: reject }
mapping_file: ../mappings/m.yaml
delivery: { concurrency: 4, max_backoff_ms: 100, initial_backoff_ms: 100 }
metrics: { port: 0, host: 127.0.0.1 }
`,
      '/srv/conf/config.yaml',
      {},
    );
    expect(config.kafka.brokers).toEqual(['b1:9092', 'b2:9093']);
    expect(config.kafka.ssl).toEqual({ ca: '/srv/conf/certs/ca.pem', rejectUnauthorized: false });
    expect(config.target.base_url).toBe('http://127.0.0.1:8080');
    expect(config.target.long_values).toBe('reject');
    expect(config.mapping_file).toBe('/srv/mappings/m.yaml');
    expect(config.delivery.concurrency).toBe(4);
    expect(config.metrics).toEqual({ port: 0, host: '127.0.0.1' });
  });

  it('treats a key left empty as absent, so its default applies', () => {
    const config = parseConfig(`${minimal}metrics:\n  host:\n`, 'c.yaml', {});
    expect(config.metrics.host).toBe('0.0.0.0');
  });
});

describe('environment substitution', () => {
  it('substitutes ${VAR} anywhere in a string, even unquoted inside a flow map', () => {
    const text = `kafka: { brokers: [127.0.0.1:9092] }
target: { client_code: acme-\${REGION} }
mapping_file: mapping.yaml
schema_registry: { url: "http://\${REGISTRY_HOST}:8081", username: u, password: \${REGISTRY_PASSWORD} }
`;
    const config = parseConfig(text, 'c.yaml', { REGION: 'eu', REGISTRY_HOST: 'registry', REGISTRY_PASSWORD: 'p,}#: &x' });
    expect(config.target.client_code).toBe('acme-eu');
    // The variable's content is taken verbatim, never parsed as YAML.
    expect(config.schema_registry).toEqual({ url: 'http://registry:8081', username: 'u', password: 'p,}#: &x' });
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty, like the shell', () => {
    const text = `${minimal}metrics: { port: \${METRICS_PORT:-9100}, host: \${METRICS_HOST:-127.0.0.1} }\n`;
    expect(parseConfig(text, 'c.yaml', { METRICS_HOST: '' }).metrics).toEqual({ port: 9100, host: '127.0.0.1' });
    expect(parseConfig(text, 'c.yaml', { METRICS_PORT: '9200', METRICS_HOST: '::' }).metrics).toEqual({
      port: 9200,
      host: '::',
    });
  });

  it('turns variables into numbers and booleans where the schema asks for them', () => {
    const config = parseConfig(
      minimal.replace('kafka:\n', 'kafka:\n  from_beginning: ${FROM_START}\n') + 'delivery: { concurrency: ${CONCURRENCY} }\n',
      'c.yaml',
      { CONCURRENCY: '8', FROM_START: 'true' },
    );
    expect(config.delivery.concurrency).toBe(8);
    expect(config.kafka.from_beginning).toBe(true);
  });

  it('names the field and position of every unset variable and malformed reference', () => {
    const text = `kafka:
  brokers: [\${BROKER}]
  sasl: { mechanism: plain, username: u, password: \${KAFKA_PASSWORD} }
target:
  client_code: "\${lower case}"
mapping_file: mapping.yaml
`;
    expect(problemsOf(text)).toEqual([
      {
        line: 2,
        column: 13,
        field: 'kafka.brokers[0]',
        message: 'environment variable BROKER is not set (write ${BROKER:-default} to give a default)',
      },
      {
        line: 3,
        column: 52,
        field: 'kafka.sasl.password',
        message: 'environment variable KAFKA_PASSWORD is not set (write ${KAFKA_PASSWORD:-default} to give a default)',
      },
      {
        line: 5,
        column: 17,
        field: 'target.client_code',
        message: '${lower case} is not a valid reference; write ${NAME} or ${NAME:-default}',
      },
    ]);
  });
});

describe('problems', () => {
  it('reports every problem at once with line, column, field and the expectation in plain words', () => {
    const text = `kafka:
  brokers: [127.0.0.1:9092, nohost]
  sasl: { mechanism: scram, username: u, password: pw }
  ssl: yes
target:
  clientcode: acme
delivery:
  concurency: 8
  concurrency: many
  max_pending: 0
metrics:
  port: 70000
`;
    expect(problemsOf(text)).toEqual([
      { line: 1, column: 1, field: 'mapping_file', message: 'is required' },
      { line: 2, column: 29, field: 'kafka.brokers[1]', message: 'must be a string like "127.0.0.1:9092", got "nohost"' },
      {
        line: 3,
        column: 22,
        field: 'kafka.sasl.mechanism',
        message: 'must be one of "plain", "scram-sha-256", "scram-sha-512", got "scram"',
      },
      { line: 4, column: 8, field: 'kafka.ssl', message: 'must be true or false, or a mapping of keys to values, got "yes"' },
      { line: 5, column: 1, field: 'target.client_code', message: 'is required' },
      { line: 6, column: 3, field: 'target.clientcode', message: 'unknown key "clientcode" (did you mean "client_code"?)' },
      { line: 8, column: 3, field: 'delivery.concurency', message: 'unknown key "concurency" (did you mean "concurrency"?)' },
      { line: 9, column: 16, field: 'delivery.concurrency', message: 'must be an integer ≥ 1, got "many"' },
      { line: 10, column: 16, field: 'delivery.max_pending', message: 'must be an integer ≥ 1, got 0' },
      { line: 12, column: 9, field: 'metrics.port', message: 'must be an integer from 0 to 65535, got 70000' },
    ]);
  });

  it('lists the known keys when an unknown one resembles none of them', () => {
    expect(problemsOf(`${minimal}metrics: { prometheus: true }\n`)).toEqual([
      { line: 6, column: 12, field: 'metrics.prometheus', message: 'unknown key "prometheus" (expected one of: port, host)' },
    ]);
  });

  it('gives JSON files positions too', () => {
    const json = '{\n  "kafka": { "brokers": ["127.0.0.1:9092"] },\n  "target": { "client_code": "acme", "timeout_ms": -5 },\n  "mapping_file": "m.yaml"\n}\n';
    expect(problemsOf(json)).toEqual([{ line: 3, column: 52, field: 'target.timeout_ms', message: 'must be an integer ≥ 1, got -5' }]);
  });

  it('checks that the first backoff does not exceed the longest', () => {
    expect(problemsOf(`${minimal}delivery:\n  initial_backoff_ms: 5000\n  max_backoff_ms: 1000\n`)).toEqual([
      {
        line: 7,
        column: 23,
        field: 'delivery.initial_backoff_ms',
        message: 'must be ≤ delivery.max_backoff_ms (1000), got 5000',
      },
    ]);
  });

  it('checks that bulk mode returns to single updates below the backlog that turned it on', () => {
    expect(problemsOf(`${minimal}delivery:\n  bulk: { mode: auto, enter_lag: 1000, exit_lag: 1000 }\n`)).toEqual([
      {
        line: 7,
        column: 50,
        field: 'delivery.bulk.exit_lag',
        message: 'must be below delivery.bulk.enter_lag (1000), got 1000: the route would flap',
      },
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problemsOf('kafka:\n  brokers: [a:1\ntarget: {}\n')).toEqual([
      expect.objectContaining({ line: 3, column: 1, message: expect.stringMatching(/^not valid YAML or JSON: /) }),
    ]);
  });

  it('reports an empty file as such', () => {
    expect(problemsOf('')).toEqual([{ line: 1, column: 1, message: 'must be a mapping of keys to values, got nothing' }]);
  });
});

describe('the spec covers the Config type', () => {
  // Deeply required, so the compiler fails this test when types.ts gains a key.
  type Full<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]-?: Full<T[K]> } : T;
  const everyKey: Full<Omit<Config, 'source_file'>> = {
    kafka: {
      brokers: ['k:9092'],
      group_id: 'g',
      client_id: 'c',
      from_beginning: true,
      ssl: { ca: 'ca.pem', cert: 'cert.pem', key: 'key.pem', rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
      session_timeout_ms: 10000,
    },
    schema_registry: { url: 'http://r:8081', username: 'u', password: 'p' },
    target: {
      client_code: 'acme',
      base_url: 'http://t:8080',
      path: '/m2/client/profile/update',
      bulk_path: '/m2/client/v2/profile/batchUpdate',
      timeout_ms: 5,
      long_values: 'allow',
      token: 't',
      auth_token: 'a',
      realtime: { path: '/rest/v1/delivery', mbox: 'm', channel: 'mobile' },
    },
    mapping_file: 'm.yaml',
    delivery: {
      concurrency: 1,
      daily_quota: 2,
      quota_window_ms: 3,
      max_attempts: 4,
      initial_backoff_ms: 5,
      breaker_threshold: 11,
      outage_budget_ms: 12,
      max_backoff_ms: 6,
      max_pending: 7,
      dead_letter_topic: 'dlq',
      commit_interval_ms: 8,
      shutdown_timeout_ms: 9,
      quota_store: { kind: 'redis', url: 'redis://r:6379', key_prefix: 'p', tls: true, username: 'u', password: 'p' },
      bulk: {
        mode: 'auto',
        enter_lag: 14,
        exit_lag: 13,
        max_rows: 15,
        max_bytes: 16,
        linger_ms: 17,
        poll_interval_ms: 18,
        status_timeout_ms: 19,
        max_attempts: 20,
        daily_row_quota: 21,
        calls_per_minute: 25,
        max_pending: 22,
        remember_profiles: 23,
      },
      realtime: { daily_call_budget: 24 },
    },
    metrics: { port: 10, host: 'h' },
  };

  function leafPaths(value: unknown, prefix = ''): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
  }

  function schemaLeafPaths(schema: JsonSchema, prefix = ''): string[] {
    if (!schema.properties) return [prefix];
    return Object.entries(schema.properties).flatMap(([k, s]) => schemaLeafPaths(s, prefix ? `${prefix}.${k}` : k));
  }

  it('has exactly the keys of types.ts', () => {
    expect(schemaLeafPaths(loadSpec().connectionSpecification).sort()).toEqual(leafPaths(everyKey).sort());
  });

  it('accepts a config setting every key and returns it unchanged but for resolved paths', () => {
    expect(parseConfig(JSON.stringify(everyKey), '/c/config.json', {})).toEqual({
      ...everyKey,
      source_file: '/c/config.json',
      kafka: { ...everyKey.kafka, ssl: { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem', rejectUnauthorized: false } },
      mapping_file: '/c/m.yaml',
    });
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await testTempDir('config');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and resolves the mapping from its folder', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, minimal);
    const config = await loadConfig(file, {});
    expect(config.source_file).toBe(file);
    expect(config.mapping_file).toBe(join(dir, 'mapping.yaml'));
  });

  it('names a missing file in a ConfigError', async () => {
    const file = join(dir, 'absent.yaml');
    await expect(loadConfig(file, {})).rejects.toThrow(new ConfigError([{ file, message: 'cannot read the config file: no such file' }]));
  });
});
