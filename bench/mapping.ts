/**
 * Mapping micro-benchmark on its own (the `mapping` scenario of bench/run.ts): plain Avro bytes →
 * decode → map → Target requests for the CRM sample events, on one thread. Prints the median
 * events/s and records it in the "## mapping" section of BENCHMARKS.md.
 *
 *   npm run bench:mapping            # measure and update BENCHMARKS.md
 *   npm run bench:mapping -- --dry   # measure only
 */
import { writeReport } from './lib/report.js';
import { loadAverage, machine } from './lib/util.js';
import { mappingOutcome, measureMapping } from './scenarios/mapping.js';

const started = performance.now();
const loadBefore = loadAverage();
const figures = await measureMapping();
const outcome = mappingOutcome(figures);
const { decode, map, build } = figures.stages;
process.stdout.write(
  [
    `decode + map + build requests, crm.customer.updated (examples/mapping.yaml, ${Math.round(figures.bytesPerEvent)} B per event), one thread`,
    `median of ${figures.rates.length} runs: ${Math.round(figures.median).toLocaleString('en-US')} events/s`,
    `per event: decode ${decode.toFixed(2)} µs, map ${map.toFixed(2)} µs, build ${build.toFixed(2)} µs (stages timed alone)`,
    ...outcome.summary.map((r) => `target ${r.target}: ${r.status}`),
    '',
  ].join('\n'),
);

if (!process.argv.includes('--dry')) {
  const { SCENARIO_ORDER } = await import('./scenarios/order.js');
  await writeReport(
    SCENARIO_ORDER,
    {
      command: 'npm run bench:mapping',
      machine: machine(),
      date: new Date().toISOString().slice(0, 10),
      conditions: `load average ${loadBefore.toFixed(2)} before, ${loadAverage().toFixed(2)} after`,
      totalSeconds: (performance.now() - started) / 1000,
      scenarios: ['mapping'],
      full: false,
    },
    new Map([['mapping', outcome]]),
  );
  process.stdout.write('updated BENCHMARKS.md\n');
}
