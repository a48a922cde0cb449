import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../connector/adapters/config/load.js';
import { createLogger, type LoggerOptions } from '../../connector/observe/logger.js';

/** A logger writing into a string, and a way to read what it wrote. */
function capture(options: Omit<LoggerOptions, 'destination'> = {}) {
  let output = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ ...options, destination }), output: () => output };
}

const config = parseConfig(
  `kafka:
  brokers: [127.0.0.1:9092]
  sasl: { mechanism: plain, username: svc, password: kafka-hunter2 }
schema_registry: { url: "http://r:8081", password: registry-hunter2 }
target: { client_code: acme, token: token-hunter2, auth_token: auth-hunter2 }
mapping_file: mapping.yaml
`,
  '/c/config.yaml',
  {},
);

function logSecrets(logger: ReturnType<typeof createLogger>): void {
  logger.info({ config }, 'starting');
  logger.warn({ request: { headers: { authorization: 'Bearer header-hunter2' } } }, 'retrying');
  logger.error({ sasl: config.kafka.sasl }, 'cannot authenticate');
}

describe('createLogger', () => {
  it('writes one JSON object per line and masks every secret', () => {
    const { logger, output } = capture({ pretty: false, name: 'run' });
    logSecrets(logger);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!) as { name: string; msg: string; config: { target: { token: string; client_code: string } } };
    expect(first).toMatchObject({ name: 'run', msg: 'starting' });
    expect(first.config.target).toMatchObject({ client_code: 'acme', token: '***', auth_token: '***' });
    expect(output()).not.toContain('hunter2');
  });

  it('masks secrets in pretty output too', () => {
    const { logger, output } = capture({ pretty: true });
    logSecrets(logger);
    expect(output()).toContain('cannot authenticate');
    expect(output()).toContain('acme');
    expect(output()).not.toContain('hunter2');
  });

  it('drops lines below its level', () => {
    const { logger, output } = capture({ pretty: false, level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(output()).not.toContain('hidden');
    expect(output()).toContain('shown');
  });
});
