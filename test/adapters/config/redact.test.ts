import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../connector/core/errors.js';
import { parseConfig, redactConfig } from '../../../connector/adapters/config/load.js';
import type { JsonSchema } from '../../../connector/adapters/config/spec.js';

const SECRETS = { KAFKA_PASSWORD: 'kafka-hunter2', REGISTRY_PASSWORD: 'registry-hunter2', TARGET_TOKEN: 'token-hunter2' };

const text = `kafka:
  brokers: [127.0.0.1:9092]
  sasl: { mechanism: plain, username: svc, password: \${KAFKA_PASSWORD} }
schema_registry: { url: "http://r:8081", username: svc, password: \${REGISTRY_PASSWORD} }
target: { client_code: acme, token: \${TARGET_TOKEN} }
mapping_file: mapping.yaml
`;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('redactConfig', () => {
  it('masks every airbyte_secret field and keeps the rest', () => {
    const redacted = redactConfig(parseConfig(text, '/c/config.yaml', SECRETS)) as Record<string, Record<string, unknown>>;
    const printed = JSON.stringify(redacted);
    for (const secret of Object.values(SECRETS)) expect(printed).not.toContain(secret);
    expect(redacted.kafka?.sasl).toEqual({ mechanism: 'plain', username: 'svc', password: '***' });
    expect(redacted.schema_registry).toEqual({ url: 'http://r:8081', username: 'svc', password: '***' });
    expect(redacted.target).toMatchObject({ client_code: 'acme', token: '***' });
    expect(redacted.kafka?.brokers).toEqual(['127.0.0.1:9092']);
  });

  it('follows the schema it is given rather than a fixed list of names', () => {
    const schema: JsonSchema = { properties: { api: { properties: { key: { airbyte_secret: true } } } } };
    expect(redactConfig({ api: { key: 'k', password: 'not secret here' } }, schema)).toEqual({
      api: { key: '***', password: 'not secret here' },
    });
  });
});

describe('secrets in config errors', () => {
  it('never quotes the source line of a YAML syntax error', () => {
    const message = messageOf(() => parseConfig('kafka:\n  sasl: { password: kafka-hunter2 ]\n', 'c.yaml', {}));
    expect(message).toMatch(/^c\.yaml:\d+:\d+ not valid YAML or JSON: /);
    expect(message).not.toContain('hunter2');
  });

  it('never echoes a secret from the environment when a sibling is wrong', () => {
    const message = messageOf(() => parseConfig(text.replace('username: svc, password', 'user: svc, password'), 'c.yaml', SECRETS));
    expect(message).toContain('unknown key "user"');
    expect(message).not.toContain('hunter2');
  });
});
