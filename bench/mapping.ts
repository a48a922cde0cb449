/**
 * Mapping micro-benchmark: plain Avro bytes → decode → map → Target requests, for the CRM sample
 * events of examples/, on one thread. Reports the median events/s of several runs and records it
 * in the "## mapping" section of BENCHMARKS.md.
 *
 *   npm run bench:mapping            # measure and update BENCHMARKS.md
 *   npm run bench:mapping -- --dry   # measure only
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../connector/config/load.js';
import { createDecoder } from '../connector/decode/decoder.js';
import { generateSampleEvents, SAMPLE_TOPICS } from '../connector/decode/sample-events.js';
import { loadMapping } from '../connector/mapping/index.js';
import { createRequestBuilder } from '../connector/target/request-builder.js';

const EVENTS = 20_000;
const CUSTOMERS = 5_000;
const PASSES_PER_RUN = 10;
const WARMUP_PASSES = 5;
const RUNS = 9;
const TARGET_PER_SECOND = 300_000;

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const topic = SAMPLE_TOPICS.crm;

const config = await loadConfig(root('examples/config.yaml'));
const mapping = await loadMapping(config.mapping_file, { longValues: config.target.long_values });
const type = mapping.readerSchema(topic);
if (!type) throw new Error(`examples/mapping.yaml names no schema for ${topic}`);
const builder = createRequestBuilder({
  baseUrl: config.target.base_url,
  pathTemplate: config.target.path,
  clientCode: config.target.client_code,
});
const decoder = createDecoder({ readerSchemas: new Map([[topic, type]]) });
const messages = generateSampleEvents({ count: EVENTS, customers: CUSTOMERS, seed: 42, topics: [topic] }).map((e) =>
  type.toBuffer(e.value),
);

/** One pass over every message; returns the number of requests built so the work cannot be optimised away. */
function pass(): number {
  let requests = 0;
  for (const bytes of messages) {
    const value = decoder.decode(topic, bytes);
    for (const outcome of mapping.mapEvent(topic, value)) {
      if (outcome.kind === 'update') requests += builder.build(outcome.update).length;
    }
  }
  return requests;
}

/** Median microseconds per event of `stage` over RUNS runs, to show where the time goes. */
function stageMicros(stage: () => number): number {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = process.hrtime.bigint();
    requests += stage();
    samples.push(Number(process.hrtime.bigint() - started) / 1e3 / EVENTS);
  }
  return samples.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

let requests = 0;
for (let i = 0; i < WARMUP_PASSES; i += 1) requests += pass();
const rates: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < PASSES_PER_RUN; i += 1) requests += pass();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rates.push((EVENTS * PASSES_PER_RUN) / seconds);
}

const values = messages.map((bytes) => decoder.decode(topic, bytes));
const updates = values.flatMap((value) => mapping.mapEvent(topic, value)).flatMap((o) => (o.kind === 'update' ? [o.update] : []));
const stages = {
  decode: stageMicros(() => messages.reduce((n, bytes) => (decoder.decode(topic, bytes) ? n + 1 : n), 0)),
  map: stageMicros(() => values.reduce<number>((n, value) => n + mapping.mapEvent(topic, value).length, 0)),
  // Per generated event, like the full pass: filtered events build nothing.
  build: stageMicros(() => updates.reduce((n, update) => n + builder.build(update).length, 0)),
};
rates.sort((a, b) => a - b);
const median = Math.round(rates[Math.floor(RUNS / 2)] as number);
const perEventBytes = Math.round(messages.reduce((sum, m) => sum + m.length, 0) / messages.length);
const summary = [
  `decode + map + build requests, ${topic} (examples/mapping.yaml, ${perEventBytes} B per event on average), one thread`,
  `median of ${RUNS} runs × ${EVENTS * PASSES_PER_RUN} events: ${median.toLocaleString('en-US')} events/s`,
  `runs: min ${Math.round(rates[0] as number).toLocaleString('en-US')}, max ${Math.round(rates.at(-1) as number).toLocaleString('en-US')} events/s`,
  `per event: decode ${stages.decode.toFixed(2)} µs, map ${stages.map.toFixed(2)} µs, build ${stages.build.toFixed(2)} µs (stages timed alone)`,
  `target ≥ ${TARGET_PER_SECOND.toLocaleString('en-US')} events/s: ${median >= TARGET_PER_SECOND ? 'met' : 'NOT met'}`,
];
process.stdout.write(`${summary.join('\n')}\n(${requests} requests built)\n`);

if (!process.argv.includes('--dry')) {
  const section = [
    '## mapping',
    '',
    'Decode (plain Avro) + map + build Target requests for the CRM sample events, one thread, no I/O.',
    `Target: ≥ ${TARGET_PER_SECOND.toLocaleString('en-US')} events/s per core.`,
    '',
    '```',
    'npm run bench:mapping',
    '```',
    '',
    `- **${median.toLocaleString('en-US')} events/s** (median of ${RUNS} runs of ${(EVENTS * PASSES_PER_RUN).toLocaleString('en-US')} events;` +
      ` min ${Math.round(rates[0] as number).toLocaleString('en-US')}, max ${Math.round(rates.at(-1) as number).toLocaleString('en-US')})`,
    `- per event: decode ${stages.decode.toFixed(2)} µs, map ${stages.map.toFixed(2)} µs, build requests ${stages.build.toFixed(2)} µs (each stage timed alone)`,
    `- target ${median >= TARGET_PER_SECOND ? 'met' : 'not met on this machine'}`,
    `- ${EVENTS.toLocaleString('en-US')} generated events (seed 42, ${CUSTOMERS.toLocaleString('en-US')} customers), ${perEventBytes} B of Avro per event on average`,
    `- ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}`,
    '',
  ].join('\n');
  const file = root('BENCHMARKS.md');
  const current = await readFile(file, 'utf8').catch(() => '# Benchmarks\n\n');
  // Replace only this section, up to the next "## " heading, so other benchmarks keep theirs.
  const pattern = /## mapping\n[\s\S]*?(?=\n## |$)/;
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}`;
  await writeFile(file, next);
  process.stdout.write(`updated ${file}\n`);
}
