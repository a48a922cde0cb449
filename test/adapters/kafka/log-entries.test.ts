/** kafkajs' own log lines at the connector's levels: transient states and retries at debug, stack traces only at debug, never an error. */
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { mapKafkaLogEntry } from '../../../connector/adapters/kafka/log-entries.js';

const entry = (level: logLevel, namespace: string, message: string, fields: Record<string, unknown> = {}) => ({
  level,
  namespace,
  log: { timestamp: '2026-12-07T17:56:19.931Z', logger: 'kafkajs', message, ...fields },
});

describe('mapKafkaLogEntry', () => {
  it.each([
    [
      'a coordinator loading',
      entry(logLevel.ERROR, 'Connection', 'Response InitProducerId(key: 22, version: 1)', {
        error: "The coordinator is loading and hence can't process requests for this group",
      }),
    ],
    [
      'a rebalance seen by a heartbeat',
      entry(logLevel.ERROR, 'Connection', 'Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' }),
    ],
    ['the runner rejoining', entry(logLevel.ERROR, 'Runner', 'The group is rebalancing, re-joining', { groupId: 'g', memberId: 'm' })],
    ['a coordinator that moved', entry(logLevel.ERROR, 'Runner', 'This is not the correct coordinator for this group.', {})],
    [
      'a leader election',
      entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', {
        error: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
      }),
    ],
    [
      'a refused request its caller reports',
      entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', { error: 'This server does not host this topic-partition' }),
    ],
    ['a restart', entry(logLevel.ERROR, 'Consumer', 'Restarting the consumer in 1000ms', { retryCount: 0, retryTime: 1000 })],
  ])('%s goes to debug', (_what, e) => {
    expect(mapKafkaLogEntry(e).level).toBe('debug');
  });

  it('a connection failure goes to debug and is handed to the outage tracker, with its cause', () => {
    const mapped = mapKafkaLogEntry(
      entry(
        logLevel.ERROR,
        'BrokerPool',
        'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:1',
        {
          retryCount: 5,
        },
      ),
    );
    expect(mapped.level).toBe('debug');
    expect(mapped.brokerTrouble).toMatch(/ECONNREFUSED/);
    expect(mapKafkaLogEntry(entry(logLevel.ERROR, 'Connection', 'Connection error: read ECONNRESET', { broker: 'b:1' })).brokerTrouble).toBe(
      'Connection error: read ECONNRESET',
    );
  });

  it("the consumer's crash goes to debug with its stack (the CRASH event reports it)", () => {
    const mapped = mapKafkaLogEntry(
      entry(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNonRetriableError: boom', { groupId: 'g', stack: 'KafkaJSNonRetriableError: boom\n    at x' }),
    );
    expect(mapped.level).toBe('debug');
    expect(mapped.fields.stack).toContain('at x');
  });

  it('an unknown ERROR becomes a warning without its stack trace; no kafkajs line is ever an error', () => {
    const mapped = mapKafkaLogEntry(entry(logLevel.ERROR, 'Producer', 'Something unexpected', { error: 'odd', stack: 'Error: odd\n    at y' }));
    expect(mapped).toEqual({
      level: 'warn',
      message: 'Something unexpected',
      fields: { timestamp: '2026-12-07T17:56:19.931Z', logger: 'kafkajs', error: 'odd', namespace: 'Producer' },
    });
  });

  it('INFO chatter goes to debug', () => {
    expect(mapKafkaLogEntry(entry(logLevel.INFO, 'Consumer', 'Starting', { groupId: 'g' })).level).toBe('debug');
  });
});
