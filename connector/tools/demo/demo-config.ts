/**
 * The demo's connector config: examples/mapping.yaml re-pointed at the run's topics, and a config
 * that goes through the real loader so that every default a user would get applies here too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { parseConfig } from '../../adapters/config/load.js';
import type { Config } from '../../core/config.js';
import { SAMPLE_TOPICS, type SampleTopic } from '../sample-events.js';
import { DemoError } from './errors.js';
import type { DemoTopics } from './demo-topics.js';
import { packageFile } from './package-files.js';

/** The Target client code of the example config and of the demo's sandbox. */
export const DEMO_CLIENT_CODE = 'acme';

const EXAMPLE_MAPPING = packageFile('examples/mapping.yaml');

/** Where the demo's connector reads, delivers and keeps its mapping. */
export interface DemoConfigInput {
  /** A scratch folder for the mapping file. */
  dir: string;
  topics: DemoTopics;
  brokers: string[];
  targetUrl: string;
}

/** Writes the demo mapping into `input.dir` and returns the validated, defaulted config. */
export async function writeDemoConfig(input: DemoConfigInput): Promise<Config> {
  const mappingFile = join(input.dir, 'mapping.yaml');
  await writeFile(mappingFile, demoMapping(await readFile(EXAMPLE_MAPPING, 'utf8'), dirname(EXAMPLE_MAPPING), input.topics));
  const config = {
    kafka: { brokers: input.brokers, group_id: input.topics.groupId, client_id: 'target-profile-sink-demo', from_beginning: true },
    target: { client_code: DEMO_CLIENT_CODE, base_url: input.targetUrl },
    mapping_file: 'mapping.yaml',
    delivery: { dead_letter_topic: input.topics.deadLetter },
    // The demo reports its own summary; a metrics port could clash with a connector already running.
    metrics: { port: 0 },
  };
  return parseConfig(JSON.stringify(config), join(input.dir, 'demo-config.json'));
}

/**
 * The example mapping text with each sample topic replaced by the run's topic and each schema
 * path made absolute (the copy lives elsewhere), loyalty swipes routed through the Delivery API;
 * comments and layout are kept for a curious reader.
 */
export function demoMapping(text: string, examplesDir: string, topics: DemoTopics): string {
  const doc = parseDocument(text);
  const mappings = doc.get('mappings');
  if (!isSeq(mappings)) throw new DemoError(`${EXAMPLE_MAPPING}: expected a mappings list`);
  const samples = new Set<string>(Object.values(SAMPLE_TOPICS));
  for (const entry of mappings.items) {
    if (!isMap(entry)) continue;
    const topic = entry.get('topic');
    if (typeof topic !== 'string' || !samples.has(topic)) {
      throw new DemoError(`${EXAMPLE_MAPPING}: mapping for ${String(topic)} is not one of the sample topics`);
    }
    entry.set('topic', topics.bySample[topic as SampleTopic]);
    const schema = entry.get('schema');
    if (typeof schema === 'string') entry.set('schema', resolve(examplesDir, schema));
    // A swipe should change what the customer sees on the web within seconds: the demo shows that door.
    if (topic === SAMPLE_TOPICS.loyalty) entry.set('route', 'realtime');
  }
  return doc.toString();
}
