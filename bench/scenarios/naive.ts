/**
 * naive: the consumer users write first (`eachMessage`, await one undici request per update,
 * auto-commit) on the e2e workloads, with the connector's own decoder, mapping and request
 * builder so that only the delivery strategy differs. Its rate is one Target round trip per
 * event, so it is measured over a fixed window instead of draining the topic.
 */
import type { NaiveParams, NaiveResult } from '../child/naive-consumer.js';
import { startChild } from '../lib/children.js';
import { benchSandbox, prepare } from '../lib/pipeline.js';
import { table, type RunContext, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, say, spread } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';
import { writeWorkspace } from '../lib/workspace.js';
import { LATENCY_MS } from './e2e-latency.js';

const WINDOW_MS = 10_000;

async function measure(ctx: RunContext, topic: string, latencyMs: number): Promise<NaiveResult[]> {
  const sandbox = await benchSandbox({ latencyMs, createMissing: false });
  try {
    const results: NaiveResult[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const configPath = await writeWorkspace({ topics: [topic], targetUrl: sandbox.url, groupId: ctx.group(`naive-${latencyMs}`) });
      const child = startChild<NaiveParams, NaiveResult>('naive-consumer', { configPath, durationMs: ctx.size(WINDOW_MS, 3000) }, { timeoutMs: 120_000 });
      const r = await child.result;
      await child.exited;
      if (r.failures > 0) throw new Error(`${r.failures} naive requests failed`);
      results.push(r);
      say(`  naive ${latencyMs} ms run ${i + 1}: ${fixed((r.events * 1000) / r.runMs)} events/s`);
    }
    return results;
  } finally {
    await sandbox.close();
  }
}

export const naive: Scenario = {
  name: 'naive',
  title: 'hand-rolled eachMessage + await request + auto-commit, and our speed-up over it',
  async run(ctx) {
    const { distinct, distinctSmall } = benchWorkloads((n, min) => ctx.size(n, min));
    const slowTopic = await prepare(distinctSmall);
    const fastTopic = await prepare(distinct);
    const slow = await measure(ctx, slowTopic, LATENCY_MS);
    const fast = await measure(ctx, fastTopic, 0);
    const rate = (r: NaiveResult) => (r.events * 1000) / r.runMs;
    const slowRates = slow.map(rate);
    const fastRates = fast.map(rate);
    const slowRate = median(slowRates);
    const fastRate = median(fastRates);
    const oursSlow = ctx.figure('e2e-latency', 'eventRate');
    const oursFast = ctx.figure('e2e-fast', 'rate');
    const speedup = (ours: { value: number } | undefined, theirs: number) => (ours ? ours.value / theirs : Number.NaN);
    const slowSpeedup = speedup(oursSlow, slowRate);
    const fastSpeedup = speedup(oursFast, fastRate);
    const when = (f: { date: string; fresh: boolean } | undefined) => (f ? (f.fresh ? 'this run' : `recorded ${f.date}`) : 'not measured');
    const markdown = [
      'A hand-rolled consumer of the kind users write first: kafkajs `eachMessage` (one partition at a time, the default),',
      'decode + map + build with the connector’s own modules, `await undici.request()` per update, kafkajs auto-commit.',
      `Same topics, sandbox and mapping as e2e-latency and e2e-fast. Because it does one Target round trip at a time, it`,
      `is measured over a ${ctx.size(WINDOW_MS, 3000) / 1000} s window from its first message (its rate is steady) instead of draining the topic;`,
      `medians of ${ctx.runs} runs.`,
      '',
      table(
        ['workload', 'naive events/s', 'runs (min–max)', 'per event p50', 'connector events/s', 'speed-up'],
        [
          [
            `e2e-latency (${LATENCY_MS} ms)`,
            fixed(slowRate),
            spread(slowRates, (n) => fixed(n)),
            `${fixed(median(slow.map((r) => r.p50Ms)))} ms`,
            `${oursSlow ? int(oursSlow.value) : 'n/a'} (${when(oursSlow)})`,
            `**${fixed(slowSpeedup, 0)}×**`,
          ],
          [
            'e2e-fast (no latency)',
            int(fastRate),
            spread(fastRates),
            `${fixed(median(fast.map((r) => r.p50Ms)), 2)} ms`,
            `${oursFast ? int(oursFast.value) : 'n/a'} (${when(oursFast)})`,
            `**${fixed(fastSpeedup, 1)}×**`,
          ],
        ],
      ),
      '',
      'With a 50 ms Target the naive loop is bound by one round trip per event (≈ 1000 / (50 + overhead) events/s); the',
      'connector keeps 64 requests in flight across profiles. Without latency the gap is what pipelining, concurrency',
      'and batched commits buy on this CPU.',
    ].join('\n');
    return {
      markdown,
      summary: [
        { figure: `naive at ${LATENCY_MS} ms`, value: `${fixed(slowRate)} events/s; connector ${fixed(slowSpeedup, 0)}× faster`, target: '—', status: 'info' },
        { figure: 'naive without latency', value: `${int(fastRate)} events/s; connector ${fixed(fastSpeedup, 1)}× faster`, target: '—', status: 'info' },
      ],
      figures: { slowRate, fastRate, slowSpeedup, fastSpeedup },
    };
  },
};
