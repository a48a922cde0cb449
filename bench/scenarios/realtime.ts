/**
 * realtime: the Delivery API door (`route: realtime`). (1) A backlog of distinct profiles with
 * Target answering after 50 ms and 64 calls in flight measures calls/s against Little's law, as
 * e2e-latency does for single updates; (2) a stream paced at 1,000 events/s with a 20 ms Target
 * measures what the door is for: the time from producing an event to its profile parameters being
 * applied in the sandbox (Kafka's produce time to the sandbox's arrival time of the call).
 */
import type { Sandbox } from '../../connector/tools/sandbox/server.js';
import { createTopic, deleteTopic, partitionFor } from '../lib/kafka.js';
import { benchSandbox, prepare, runSink } from '../lib/pipeline.js';
import { table, type RunContext, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, percent, say, sleep, spread } from '../lib/util.js';
import { benchWorkloads, workloadEvents, type Workload } from '../lib/workloads.js';
import { CONCURRENCY, LATENCY_MS, producePaced, waitForStableGroup } from './e2e-latency.js';

const LITTLE = CONCURRENCY / (LATENCY_MS / 1000);
const TARGET_RATIO = 0.9;
const PACED_LATENCY_MS = 20;
const PACED_RATE = 1000;
const PACED_SECONDS = 15;
/** A fresh connector's first seconds of a stream, measured apart (see producePaced). */
const WARMUP_SECONDS = 3;
const TARGET_P99_MS = 150;

/** The `q` quantile (0–1) of sorted numbers. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Produce → applied, in ms, of every profile the paced stream produced and the sandbox applied, the warm-up's apart. */
function appliedLatencies(sandbox: Sandbox, producedAt: Map<string, number>, warmKeys: Set<string>): { measured: number[]; warmup: number[] } {
  const measured: number[] = [];
  const warmup: number[] = [];
  for (const update of sandbox.updates()) {
    const at = producedAt.get(update.identity.value);
    if (update.route !== 'realtime' || at === undefined) continue;
    (warmKeys.has(update.identity.value) ? warmup : measured).push(Date.parse(update.receivedAt) - at);
  }
  return { measured: measured.sort((a, b) => a - b), warmup: warmup.sort((a, b) => a - b) };
}

async function pacedRun(ctx: RunContext): Promise<{ latencies: number[]; warmup: number[]; produced: number }> {
  const warmupEvents = ctx.size(PACED_RATE * WARMUP_SECONDS);
  const workload: Workload = {
    id: 'realtime-paced',
    count: warmupEvents + ctx.size(PACED_RATE * PACED_SECONDS),
    partitions: 4,
    profiles: { kind: 'distinct' },
    seed: 6,
  };
  const warmKeys = new Set(workloadEvents(workload, 0, warmupEvents).map((e) => e.key));
  const topic = `bench.crm.realtime-paced.${Date.now().toString(36)}`;
  await createTopic(topic, workload.partitions);
  const sandbox = await benchSandbox({ latencyMs: PACED_LATENCY_MS, createMissing: true, recordUpdates: true });
  try {
    const perPartition = new Map<number, number>();
    for (const e of workloadEvents(workload, 0, workload.count)) {
      const p = partitionFor(e.key, workload.partitions);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    let producedAt = new Map<string, number>();
    const r = await runSink(ctx, {
      topics: [topic],
      targetUrl: sandbox.url,
      route: 'realtime',
      delivery: { concurrency: CONCURRENCY },
      label: 'realtime-paced',
      ends: [...perPartition].map(([p, n]) => [topic, p, n]),
      onReady: async (groupId) => {
        await waitForStableGroup(groupId);
        await sleep(500);
        producedAt = await producePaced(topic, workload, PACED_RATE, warmupEvents);
      },
    });
    if (!r.complete) throw new Error('the paced realtime run did not complete');
    const { measured, warmup } = appliedLatencies(sandbox, producedAt, warmKeys);
    return { latencies: measured, warmup, produced: producedAt.size - warmKeys.size };
  } finally {
    await sandbox.close();
    await deleteTopic(topic);
  }
}

export const realtime: Scenario = {
  name: 'realtime',
  title: 'the Delivery API door: calls/s at 50 ms and concurrency 64 against Little’s law; produce → applied at 1,000 events/s',
  async run(ctx) {
    const { distinctSmall } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinctSmall);
    const sandbox = await benchSandbox({ latencyMs: LATENCY_MS, createMissing: true });
    const rates: number[] = [];
    try {
      for (let i = 0; i < ctx.runs; i++) {
        const r = await runSink(ctx, { topics: [topic], targetUrl: sandbox.url, route: 'realtime', delivery: { concurrency: CONCURRENCY }, label: 'realtime' });
        if (!r.complete || r.failedRequests > 0) throw new Error(`realtime run ${i + 1} incomplete or failing: ${JSON.stringify(r)}`);
        rates.push((r.requests * 1000) / r.requestSpanMs);
        say(`  realtime run ${i + 1}: ${int(rates.at(-1) as number)} calls/s`);
      }
    } finally {
      await sandbox.close();
    }
    const paced = await pacedRun(ctx);
    const p50 = quantile(paced.latencies, 0.5);
    const p99 = quantile(paced.latencies, 0.99);
    say(`  realtime paced: produce → applied p50 ${fixed(p50)} ms, p99 ${fixed(p99)} ms`);
    const rate = median(rates);
    const ratio = rate / LITTLE;
    const rateMet = ratio >= TARGET_RATIO;
    const p99Met = p99 <= TARGET_P99_MS;
    const markdown = [
      `Mapping with \`route: realtime\`: every update is one Delivery API call. Sandbox answers after ${LATENCY_MS} ms; concurrency`,
      `${CONCURRENCY}; Little’s law: ${int(LITTLE)} calls/s. Backlog of ${int(distinctSmall.count)} distinct profiles; medians of ${ctx.runs} runs.`,
      '',
      table(
        ['measure', 'median', 'runs (min–max)'],
        [
          ['calls/s', `**${int(rate)}**`, spread(rates)],
          [`share of Little’s law`, `**${percent(ratio)}**`, `target ≥ ${percent(TARGET_RATIO)}: **${rateMet ? 'met' : 'not met'}**`],
        ],
      ),
      '',
      `**Paced** — ${int(paced.produced)} events produced at ${int(PACED_RATE)}/s into a fresh topic once the group is stable; Target`,
      `answers after ${PACED_LATENCY_MS} ms; latency from the producer's send to the sandbox's arrival time of the call that applied it.`,
      `Before them, ${int(paced.warmup.length)} warm-up events at the same pace, then a 5 s pause: a freshly started connector falls`,
      `behind for its first seconds of traffic and catches up (warm-up p99 **${fixed(quantile(paced.warmup, 0.99))} ms**, max ${fixed(paced.warmup.at(-1) ?? NaN)} ms);`,
      `the same pace after the pause shows no such queue, so the target is judged on the events after it.`,
      '',
      table(
        ['p50', 'p90', 'p99', 'max', 'applied', `target p99 ≤ ${TARGET_P99_MS} ms`],
        [
          [
            `**${fixed(p50)} ms**`,
            `${fixed(quantile(paced.latencies, 0.9))} ms`,
            `**${fixed(p99)} ms**`,
            `${fixed(paced.latencies.at(-1) ?? NaN)} ms`,
            int(paced.latencies.length),
            p99Met ? '**met**' : '**not met**',
          ],
        ],
      ),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: `realtime (${LATENCY_MS} ms, concurrency ${CONCURRENCY})`,
          value: `${int(rate)} calls/s (${percent(ratio)} of ${int(LITTLE)})`,
          target: `≥ ${percent(TARGET_RATIO)} of Little’s law`,
          status: rateMet ? 'met' : 'not met',
        },
        {
          figure: `realtime produce → applied, ${int(PACED_RATE)}/s, ${PACED_LATENCY_MS} ms`,
          value: `p50 ${fixed(p50)} ms, p99 ${fixed(p99)} ms (a fresh process's first ${WARMUP_SECONDS} s: p99 ${fixed(quantile(paced.warmup, 0.99))} ms)`,
          target: `p99 ≤ ${TARGET_P99_MS} ms`,
          status: p99Met ? 'met' : 'not met',
        },
      ],
      figures: { rate, ratio, pacedP50: p50, pacedP99: p99 },
    };
  },
};
