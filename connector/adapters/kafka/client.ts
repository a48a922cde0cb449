import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { KafkaConfig } from '../../core/config.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client from the config, logging through pino (kafkajs INFO chatter is kept at debug). */
export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
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
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const target = level === logLevel.INFO ? 'debug' : (levels[level] ?? 'debug');
        log[target](rest, message);
      },
  });
}
