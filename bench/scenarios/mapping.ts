/**
 * mapping: plain Avro bytes → decode → map → Target requests for the CRM sample events of
 * examples/, on one thread, no I/O. Median events/s of several runs, and the time of each stage
 * measured alone.
 */
import { loadConfig } from '../../connector/adapters/config/load.js';
import { createDecoder } from '../../connector/adapters/avro/decoder.js';
import { generateSampleEvents, SAMPLE_TOPICS } from '../../connector/tools/sample-events.js';
import { loadConfiguredMapping } from '../../connector/adapters/mapping-file/load.js';
import { requestBuilderFor } from '../../connector/apps/common/delivery.js';
import { projectedSchemasOf } from '../../connector/core/mapping/index.js';
import { table, type Scenario, type ScenarioOutcome } from '../lib/scenario.js';
import { fixed, int, median, repoPath, spread } from '../lib/util.js';

const EVENTS = 20_000;
const CUSTOMERS = 5_000;
const PASSES_PER_RUN = 10;
const WARMUP_PASSES = 5;
const RUNS = 9;
const TARGET_PER_SECOND = 300_000;

export interface MappingFigures {
  rates: number[];
  median: number;
  stages: { decode: number; map: number; build: number };
  bytesPerEvent: number;
  requestsPerEvent: number;
}

/** Measures the mapping pipeline; `runs` timed runs of PASSES_PER_RUN passes over EVENTS events. */
export async function measureMapping(runs = RUNS): Promise<MappingFigures> {
  const topic = SAMPLE_TOPICS.crm;
  const config = await loadConfig(repoPath('examples/config.yaml'));
  const mapping = await loadConfiguredMapping(config);
  const type = mapping.readerSchema(topic);
  if (!type) throw new Error(`examples/mapping.yaml names no schema for ${topic}`);
  const builder = requestBuilderFor(config.target);
  // As `run` decodes: read with the reader schema narrowed to what the mapping reads.
  const decoder = createDecoder({ readerSchemas: new Map([[topic, type]]), projections: projectedSchemasOf(mapping) });
  const messages = generateSampleEvents({ count: EVENTS, customers: CUSTOMERS, seed: 42, topics: [topic] }).map((e) => type.toBuffer(e.value));

  let sink = 0;
  /** One pass over every message; returns the number of requests built so the work cannot be optimised away. */
  const pass = (): number => {
    let requests = 0;
    for (const bytes of messages) {
      const value = decoder.decode(topic, bytes);
      for (const outcome of mapping.mapEvent(topic, value)) {
        if (outcome.kind === 'update') requests += builder.build(outcome.update).length;
      }
    }
    return requests;
  };
  /** Median microseconds per event of `stage`, to show where the time goes. */
  const stageMicros = (stage: () => number): number => {
    const samples: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const started = process.hrtime.bigint();
      sink += stage();
      samples.push(Number(process.hrtime.bigint() - started) / 1e3 / EVENTS);
    }
    return median(samples);
  };

  for (let i = 0; i < WARMUP_PASSES; i += 1) sink += pass();
  const rates: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < PASSES_PER_RUN; i += 1) sink += pass();
    rates.push((EVENTS * PASSES_PER_RUN) / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  const values = messages.map((bytes) => decoder.decode(topic, bytes));
  const updates = values.flatMap((value) => mapping.mapEvent(topic, value)).flatMap((o) => (o.kind === 'update' ? [o.update] : []));
  const stages = {
    decode: stageMicros(() => messages.reduce((n, bytes) => (decoder.decode(topic, bytes) ? n + 1 : n), 0)),
    map: stageMicros(() => values.reduce<number>((n, value) => n + mapping.mapEvent(topic, value).length, 0)),
    // Per generated event, like the full pass: filtered events build nothing.
    build: stageMicros(() => updates.reduce((n, update) => n + builder.build(update).length, 0)),
  };
  const requestsPerEvent = pass() / EVENTS;
  if (sink < 0) throw new Error('unreachable');
  return {
    rates,
    median: median(rates),
    stages,
    bytesPerEvent: messages.reduce((sum, m) => sum + m.length, 0) / messages.length,
    requestsPerEvent,
  };
}

export function mappingOutcome(f: MappingFigures): ScenarioOutcome {
  const met = f.median >= TARGET_PER_SECOND;
  const markdown = [
    'Decode (plain Avro) + map + build Target requests for the CRM sample events (examples/mapping.yaml, 16 attributes',
    'and a map expansion), one thread, no I/O. Also `npm run bench:mapping` on its own.',
    '',
    table(
      ['measure', 'value'],
      [
        [`events/s (median of ${f.rates.length} runs × ${int(EVENTS * PASSES_PER_RUN)} events)`, `**${int(f.median)}**`],
        ['runs (min–max)', spread(f.rates)],
        ['decode (avsc) per event', `${fixed(f.stages.decode, 2)} µs`],
        ['map per event', `${fixed(f.stages.map, 2)} µs`],
        ['build requests per event', `${fixed(f.stages.build, 2)} µs`],
        ['Avro size per event', `${int(f.bytesPerEvent)} B`],
        [`target ≥ ${int(TARGET_PER_SECOND)} events/s per core`, `**${met ? 'met' : 'not met'}**`],
      ],
    ),
    '',
    `${int(EVENTS)} generated events (seed 42, ${int(CUSTOMERS)} customers); each stage is timed alone over the same events.`,
  ].join('\n');
  return {
    markdown,
    summary: [
      {
        figure: 'mapping (decode + map + build, one core)',
        value: `${int(f.median)} events/s`,
        target: `≥ ${int(TARGET_PER_SECOND)} events/s`,
        status: met ? 'met' : 'not met',
      },
    ],
    figures: { rate: f.median, decodeMicros: f.stages.decode, mapMicros: f.stages.map, buildMicros: f.stages.build },
  };
}

export const mapping: Scenario = {
  name: 'mapping',
  title: 'decode + map + build requests, one core, no I/O',
  async run() {
    return mappingOutcome(await measureMapping());
  },
};
