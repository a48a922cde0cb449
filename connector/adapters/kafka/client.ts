import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { KafkaConfig } from '../../core/config.js';
import { mapKafkaLogEntry } from './log-entries.js';

/**
 * A kafkajs client from the config, logging through pino at the levels of log-entries.ts;
 * `onBrokerTrouble` hears every line that says a broker cannot be reached.
 */
export function createKafka(config: KafkaConfig, logger: Logger, onBrokerTrouble?: (cause: string) => void): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const ssl =
    typeof config.ssl === 'object'
      ? {
          rejectUnauthorized: config.ssl.rejectUnauthorized ?? true,
          ca: config.ssl.ca ? [readFileSync(config.ssl.ca, 'utf8')] : undefined,
          cert: config.ssl.cert ? readFileSync(config.ssl.cert, 'utf8') : undefined,
          key: config.ssl.key ? readFileSync(config.ssl.key, 'utf8') : undefined,
        }
      : config.ssl;
  return new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl,
    sasl: config.sasl as SASLOptions | undefined,
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => {
      const mapped = mapKafkaLogEntry(entry);
      if (mapped.brokerTrouble !== undefined) onBrokerTrouble?.(mapped.brokerTrouble);
      log[mapped.level](mapped.fields, mapped.message);
    },
  });
}
