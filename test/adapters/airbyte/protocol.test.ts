import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configuredStreams } from '../../../connector/adapters/airbyte/catalog.js';
import { connectionStatus, failed, passed, skipped } from '../../../connector/apps/common/probe.js';
import { parseInputLine } from '../../../connector/adapters/airbyte/input.js';
import { catalogMessage, connectionStatusMessage, logMessage, protocolLine, traceErrorMessage } from '../../../connector/adapters/airbyte/messages.js';
import { toDecodedValue } from '../../../connector/adapters/avro/json-values.js';
import { scrubSecrets, secretValues } from '../../../connector/adapters/config/secrets.js';
import { specMessage } from '../../../connector/apps/spec/spec.js';
import { parseConfig } from '../../../connector/adapters/config/load.js';
import { loadAvroSchema } from '../../../connector/adapters/mapping-file/schema-file.js';
import { AvroDate, Decimal } from '../../../connector/core/values.js';
import { ConfigError } from '../../../connector/core/errors.js';
import { ROOT } from '../../support/delivery-harness.js';
import { protocolMessage } from '../../support/airbyte-protocol.js';

describe('protocol message builders', () => {
  it('build one-line messages of the Airbyte shapes', () => {
    protocolMessage(specMessage(), 'SPEC');
    expect(protocolLine(connectionStatusMessage('FAILED', 'topics: missing a'))).toBe(
      '{"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"topics: missing a"}}',
    );
    protocolMessage(protocolLine(catalogMessage([])), 'CATALOG');
    expect(protocolLine(logMessage('WARN', 'line 2: not JSON'))).toBe('{"type":"LOG","log":{"level":"WARN","message":"line 2: not JSON"}}');
    expect(traceErrorMessage('bad catalog', 'config_error', 42)).toEqual({
      type: 'TRACE',
      trace: { type: 'ERROR', emitted_at: 42, error: { message: 'bad catalog', failure_type: 'config_error' } },
    });
    const multiLine = protocolLine(connectionStatusMessage('FAILED', 'a\nb'));
    expect(multiLine.split('\n')).toHaveLength(1);
  });
});

describe('parseInputLine', () => {
  it('reads RECORD and STATE messages, keeping the whole STATE for the echo', () => {
    expect(parseInputLine('{"type":"RECORD","record":{"stream":"t","data":{"a":1},"emitted_at":5}}')).toEqual({
      kind: 'record',
      stream: 't',
      data: { a: 1 },
    });
    const state = { type: 'STATE', state: { type: 'STREAM', stream: { cursor: 3 } }, sourceStats: { recordCount: 2 } };
    expect(parseInputLine(JSON.stringify(state))).toEqual({ kind: 'state', message: state });
  });

  it('skips blank lines and names what is wrong with the others', () => {
    expect(parseInputLine('   ')).toBeUndefined();
    expect(parseInputLine('{oops')).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^not JSON/) as string });
    expect(parseInputLine('[1]')).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('"type"') as string });
    expect(parseInputLine('{"type":"RECORD","record":{"stream":"t"}}')).toMatchObject({ kind: 'invalid' });
    expect(parseInputLine('{"type":"RECORD","record":{"stream":"t","data":[1]}}')).toMatchObject({ kind: 'invalid' });
    expect(parseInputLine('{"type":"STATE"}')).toMatchObject({ kind: 'invalid', reason: 'STATE needs a "state" object' });
    expect(parseInputLine('{"type":"TRACE","trace":{}}')).toEqual({ kind: 'other', type: 'TRACE' });
  });
});

describe('configuredStreams', () => {
  const topics = ['crm', 'loyalty'];
  const catalog = (names: unknown[]) =>
    JSON.stringify({ streams: names.map((name) => ({ stream: { name, json_schema: {} }, sync_mode: 'incremental', destination_sync_mode: 'append' })) });

  it('returns the stream names of a configured catalog', () => {
    expect(configuredStreams(catalog(['loyalty']), 'catalog.json', topics)).toEqual(['loyalty']);
  });

  it('rejects a stream that is not a mapped topic and lists the valid ones', () => {
    const error = (() => {
      try {
        configuredStreams(catalog(['crm', 'orders', 7]), 'catalog.json', topics);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      [
        'catalog.json streams[1]: "orders" is not a mapped topic',
        'catalog.json streams[2].stream.name must be a string',
        "catalog.json valid streams (the mapping's topics): crm, loyalty",
      ].join('\n'),
    );
  });

  it('rejects text that is not a catalog', () => {
    expect(() => configuredStreams('{', 'c.json', topics)).toThrow(/not a JSON catalog/);
    expect(() => configuredStreams('{"streams":[]}', 'c.json', topics)).toThrow(/at least one stream/);
  });
});

describe('connectionStatus', () => {
  it('succeeds when nothing failed, listing what was checked', () => {
    const status = connectionStatus([passed('config', 'ok'), skipped('schema registry', 'not configured'), passed('brokers', 'b:1')]);
    expect(status).toEqual({ status: 'SUCCEEDED', message: 'all checks passed: config: ok; brokers: b:1; schema registry: not configured' });
  });

  it('names every failed probe, in probe order, then what passed and what was not checked', () => {
    const status = connectionStatus([
      failed('Target endpoint', 'no HTTP answer'),
      passed('config', 'ok'),
      failed('brokers', 'refused'),
      skipped('topics', 'brokers unreachable'),
    ]);
    expect(status.status).toBe('FAILED');
    expect(status.message.split('\n')).toEqual([
      '2 of 4 checks failed',
      'brokers: refused',
      'Target endpoint: no HTTP answer',
      'passed: config',
      'not checked: topics (brokers unreachable)',
    ]);
  });
});

describe('toDecodedValue', () => {
  it('turns JSON data into the decoded-values contract', async () => {
    const type = await loadAvroSchema(join(ROOT, 'schemas/transaction-completed.avsc'));
    const data = {
      transactionId: '0f2fd472-f9dc-478c-b9af-5021fe22794f',
      customerId: 'C-1',
      completedAt: '2026-01-05T08:00:06.488Z',
      businessDate: '2026-01-05',
      amount: '12.30',
      discount: '0.5',
      currency: 'SEK',
      paymentMethod: 'CARD',
      lineItems: [{ sku: 'S1', name: 'Mug', quantity: 2, unitPrice: '6.15' }],
    };
    const decoded = toDecodedValue(type, data);
    expect(decoded.ok).toBe(true);
    const value = (decoded as { value: Record<string, unknown> }).value;
    expect(value.completedAt).toEqual(new Date('2026-01-05T08:00:06.488Z'));
    expect(value.businessDate).toBeInstanceOf(AvroDate);
    expect(String(value.businessDate)).toBe('2026-01-05');
    expect(value.amount).toEqual(new Decimal(1230n, 2));
    expect(String(value.discount)).toBe('0.5000');
    expect(value.storeId).toBeNull();
  });

  it('names every field that does not fit', async () => {
    const type = await loadAvroSchema(join(ROOT, 'schemas/loyalty-card-swiped.avsc'));
    const decoded = toDecodedValue(type, { eventId: 'not-a-uuid', swipedAt: 'yesterday', channel: 'FAX' });
    expect(decoded.ok).toBe(false);
    const reason = (decoded as { reason: string }).reason;
    expect(reason).toMatch(/^does not match schema com\.acme\.loyalty\.LoyaltyCardSwiped: invalid /);
    for (const part of ['eventId = "not-a-uuid"', 'swipedAt = "yesterday"', 'channel = "FAX"', 'card = missing', 'pointsBalance = missing']) {
      expect(reason).toContain(part);
    }
  });
});

describe('secret scrubbing', () => {
  it('masks every airbyte_secret value of the config and a password in the registry URL', () => {
    const config = parseConfig(
      [
        'kafka: { brokers: [b:9092], sasl: { mechanism: plain, username: svc, password: "s3cr3t-kafka" } }',
        'schema_registry: { url: "http://reg:p%40ss-word@r:8081", password: "s3cr3t-reg" }',
        'target: { client_code: acme, token: "s3cr3t-token" }',
        'mapping_file: m.yaml',
        'delivery: { dead_letter_topic: dlq }',
      ].join('\n'),
      'config.yaml',
    );
    const secrets = secretValues(config);
    const text = 'sasl s3cr3t-kafka, registry s3cr3t-reg and p@ss-word, token s3cr3t-token, user svc';
    expect(scrubSecrets(text, secrets)).toBe('sasl ***, registry *** and ***, token ***, user svc');
  });
});
