/** Config, mapping and catalog files for the Airbyte command tests, in a fresh folder. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SAMPLE_TOPICS, type SampleTopic } from '../../connector/tools/sample-events.js';
import { testMapping, type TestTopics } from './delivery-harness.js';
import { testTempDirSync } from './test-run.js';

/** The sample topics under their own names; enough for commands that never touch Kafka. */
export function sampleTopicNames(deadLetter = 'target-profile-sink.dlq'): TestTopics {
  const byKind = Object.fromEntries(Object.values(SAMPLE_TOPICS).map((t) => [t, t])) as Record<SampleTopic, string>;
  return { prefix: '', byKind, deadLetter, all: Object.values(byKind) };
}

export interface WorkspaceOptions {
  targetUrl: string;
  topics?: TestTopics;
  /** Extra or replaced keys of each config section. */
  kafka?: Record<string, unknown>;
  target?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  schemaRegistry?: Record<string, unknown>;
  /** Replaces the delivery tests' mapping. */
  mapping?: unknown;
}

export interface Workspace {
  dir: string;
  config: string;
  /** Writes a configured catalog naming `streams`; returns its path. */
  catalog(streams: string[]): string;
}

/** Writes config.yaml and mapping.yaml (the delivery tests' mapping unless given). */
export function writeAirbyteWorkspace(options: WorkspaceOptions): Workspace {
  const dir = testTempDirSync('airbyte');
  const topics = options.topics ?? sampleTopicNames();
  writeFileSync(join(dir, 'mapping.yaml'), stringify(options.mapping ?? testMapping(topics)));
  const config = {
    // Nothing listens on port 9: commands that must not need Kafka prove it by working anyway.
    kafka: { brokers: ['127.0.0.1:9'], ...options.kafka },
    ...(options.schemaRegistry && { schema_registry: options.schemaRegistry }),
    target: { client_code: 'acme', base_url: options.targetUrl, timeout_ms: 2000, ...options.target },
    mapping_file: 'mapping.yaml',
    delivery: {
      concurrency: 16,
      initial_backoff_ms: 20,
      max_backoff_ms: 200,
      // Tests that name their topics have a dead-letter topic; the others have none (write then fails the sync instead).
      ...(options.topics && { dead_letter_topic: topics.deadLetter }),
      ...options.delivery,
    },
    metrics: { port: 0 },
  };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  let catalogs = 0;
  return {
    dir,
    config: join(dir, 'config.yaml'),
    catalog(streams) {
      const path = join(dir, `catalog-${++catalogs}.json`);
      const entries = streams.map((name) => ({
        stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
        sync_mode: 'incremental',
        destination_sync_mode: 'append',
      }));
      writeFileSync(path, JSON.stringify({ streams: entries }));
      return path;
    },
  };
}
