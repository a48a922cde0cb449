/** The shipped example config works on any local broker: it takes KAFKA_BROKERS, with a default. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../connector/adapters/config/load.js';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../examples/config.yaml', import.meta.url));

describe('examples/config.yaml', () => {
  it('takes the brokers from KAFKA_BROKERS', async () => {
    const config = await loadConfig(EXAMPLE_CONFIG, { KAFKA_BROKERS: '127.0.0.1:29092, 10.0.0.2:9093' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:29092', '10.0.0.2:9093']);
  });

  it('falls back to the local broker of npm run kafka:start', async () => {
    const config = await loadConfig(EXAMPLE_CONFIG, {});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
  });
});
