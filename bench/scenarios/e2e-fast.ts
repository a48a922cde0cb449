/**
 * e2e-fast: the whole connector on a pre-produced backlog where every event is a different
 * profile and Target answers at once: events/s from the first fetch until every offset is
 * committed, compared with the ceiling.
 */
import { cpus } from 'node:os';
import { benchSandbox, prepare, runSink, type SinkRunOutcome } from '../lib/pipeline.js';
import { table, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, percent, say, spread } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';
import { cpuText, E2E_FAST_CONCURRENCY } from './ceiling.js';

const TARGET_RATIO = 0.7;

export const e2eFast: Scenario = {
  name: 'e2e-fast',
  title: 'whole connector, 200,000 distinct profiles, no latency',
  async run(ctx) {
    const { distinct } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinct);
    const results: SinkRunOutcome[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const sandbox = await benchSandbox({ latencyMs: 0, createMissing: false });
      try {
        const r = await runSink(ctx, { topics: [topic], targetUrl: sandbox.url, label: 'e2e-fast' });
        if (!r.complete || r.deadLettered > 0 || r.failedRequests > 0) {
          throw new Error(`e2e-fast run ${i + 1} incomplete or failing: ${JSON.stringify(r)}`);
        }
        results.push(r);
        say(
          `  e2e-fast run ${i + 1}: ${int((r.events * 1000) / r.runMs)} events/s, CPU ${fixed(r.cpuSeconds / (r.runMs / 1000), 2)} cores, ${fixed((r.cpuSeconds * 1e6) / r.events, 1)} µs CPU/event`,
        );
      } finally {
        await sandbox.close();
      }
    }
    const rates = results.map((r) => (r.events * 1000) / r.runMs);
    const rate = median(rates);
    const mid = results[rates.indexOf(rate)] as SinkRunOutcome;
    const requestsPerEvent = mid.requests / mid.events;
    const ceiling = ctx.figure('ceiling', 'ceilingRate');
    const ratio = ceiling ? rate / ceiling.value : Number.NaN;
    const met = ratio >= TARGET_RATIO;
    const cpu = median(results.map((r) => r.cpuSeconds / (r.runMs / 1000)));
    const markdown = [
      `${int(distinct.count)} CRM events pre-produced on ${distinct.partitions} partitions, every event a distinct profile;`,
      `sandbox in the benchmark process without latency (update-only: it parses and answers \`true\`, stores nothing).`,
      `The connector runs in a child process (startSink, as \`run\` does, with its metrics), default settings:`,
      `concurrency ${E2E_FAST_CONCURRENCY}, max_pending 10,000. Timed from its first fetched event until every partition’s end`,
      `offset is committed; medians of ${ctx.runs} runs.`,
      '',
      table(
        ['measure', 'median', 'runs (min–max)'],
        [
          ['events/s (fetch → all committed)', `**${int(rate)}**`, spread(rates)],
          ['requests/event (7% of CRM events are filtered by `when`)', fixed(requestsPerEvent, 3), '—'],
          [
            'connector CPU while running',
            `${fixed(cpu, 2)} cores`,
            spread(
              results.map((r) => r.cpuSeconds / (r.runMs / 1000)),
              (n) => fixed(n, 2),
            ),
          ],
          ['connector CPU per event', `${fixed(median(results.map((r) => (r.cpuSeconds * 1e6) / r.events)), 0)} µs`, '—'],
          [
            'meanwhile: sandbox / broker / whole machine',
            `${cpuText(results.map((r) => r.cpu?.sandboxCores ?? Number.NaN))} / ${cpuText(results.map((r) => r.cpu?.brokerCores ?? Number.NaN))} / ${cpuText(results.map((r) => r.cpu?.machineCores ?? Number.NaN))} of ${cpus().length}`,
            '—',
          ],
          ['connector RSS at the end', `${int(median(results.map((r) => r.rssMiB)))} MiB`, '—'],
          ['start-up (process start → first event)', `${fixed(median(results.map((r) => r.startupMs)) / 1000, 1)} s`, '—'],
          [
            `ratio to the ceiling (${ceiling ? `${int(ceiling.value)} events/s${ceiling.fresh ? '' : `, measured ${ceiling.date}`}` : 'not measured'})`,
            `**${percent(ratio)}**`,
            `target ≥ ${percent(TARGET_RATIO)}: **${ceiling ? (met ? 'met' : 'not met') : 'n/a'}**`,
          ],
        ],
      ),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: 'e2e-fast',
          value: `${int(rate)} events/s (${percent(ratio)} of ceiling)`,
          target: `≥ ${percent(TARGET_RATIO)} of ceiling`,
          status: ceiling ? (met ? 'met' : 'not met') : 'info',
        },
      ],
      figures: { rate, requestsPerEvent, ratio, cpu },
    };
  },
};
