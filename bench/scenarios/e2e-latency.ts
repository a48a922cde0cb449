/**
 * e2e-latency: Target answers after 50 ms and the connector keeps 64 requests in flight, so
 * Little's law caps it at 64 / 0.05 s = 1,280 requests/s. (1) A pre-produced backlog of distinct
 * profiles measures the request rate; (2) a paced stream below capacity measures how long one
 * event waits from fetch to Target's acknowledgement when it does not queue behind a backlog.
 */
import { CompressionTypes } from 'kafkajs';
import type { SinkRunResult } from '../child/sink-runner.js';
import { benchKafka, createTopic, deleteTopic, partitionFor, withAdmin } from '../lib/kafka.js';
import { benchSandbox, prepare, runSink } from '../lib/pipeline.js';
import { table, type RunContext, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, percent, say, sleep, spread } from '../lib/util.js';
import { benchWorkloads, crmSchema, workloadEvents, type Workload } from '../lib/workloads.js';

export const LATENCY_MS = 50;
export const CONCURRENCY = 64;
const LITTLE = CONCURRENCY / (LATENCY_MS / 1000);
const TARGET_RATIO = 0.9;
/** The paced stream: events/s and seconds (about 73% of capacity in requests). */
const PACED_RATE = 1000;
const PACED_SECONDS = 15;

/** Resolves once the group is Stable with members: a paced stream then starts against a consuming connector. */
export async function waitForStableGroup(groupId: string): Promise<void> {
  await withAdmin(async (admin) => {
    for (let i = 0; i < 300; i++) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (g?.state === 'Stable' && g.members.length > 0) return;
      await sleep(100);
    }
    throw new Error(`group ${groupId} did not become stable`);
  });
}

/** Pause between a paced stream's warm-up events and the measured rest: long enough that the warm-up's queue is gone. */
const WARMUP_PAUSE_MS = 5000;

/**
 * Produces the workload to `topic` at `rate` events per second, starting now; returns when each
 * event's key was produced (epoch ms), for scenarios that time produce → applied. With `warmup`,
 * the first `warmup` events go first, then a pause, then the rest at the same pace: a connector
 * process's first seconds of traffic (JIT, new connections) are then told apart from its steady state.
 */
export async function producePaced(topic: string, workload: Workload, rate: number, warmup = 0): Promise<Map<string, number>> {
  const type = await crmSchema();
  const events = workloadEvents(workload, 0, workload.count);
  const producedAt = new Map<string, number>();
  const producer = benchKafka('bench-paced').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let started = performance.now();
    let sent = 0;
    while (sent < events.length) {
      if (warmup > 0 && sent === warmup) {
        await sleep(WARMUP_PAUSE_MS);
        started = performance.now() - (warmup / rate) * 1000;
      }
      const due = Math.min(events.length, warmup > sent ? warmup : Infinity, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      if (due > sent) {
        const batch = events.slice(sent, due);
        const at = Date.now();
        await producer.send({
          topic,
          acks: 1,
          compression: CompressionTypes.None,
          messages: batch.map((e) => ({ key: e.key, value: type.toBuffer(e.value), partition: partitionFor(e.key, workload.partitions) })),
        });
        for (const e of batch) producedAt.set(e.key, at);
        sent = due;
      }
      await sleep(5);
    }
  } finally {
    await producer.disconnect();
  }
  return producedAt;
}

async function pacedRun(ctx: RunContext, targetUrl: string): Promise<SinkRunResult> {
  const partitions = 4;
  const workload: Workload = { id: 'paced', count: ctx.size(PACED_RATE * PACED_SECONDS), partitions, profiles: { kind: 'distinct' }, seed: 5 };
  const topic = `bench.crm.paced.${Date.now().toString(36)}`;
  await createTopic(topic, partitions);
  try {
    const perPartition = new Map<number, number>();
    for (const e of workloadEvents(workload, 0, workload.count)) {
      const p = partitionFor(e.key, partitions);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    return await runSink(ctx, {
      topics: [topic],
      targetUrl,
      delivery: { concurrency: CONCURRENCY },
      label: 'e2e-latency-paced',
      ends: [...perPartition].map(([p, n]) => [topic, p, n]),
      onReady: async (groupId) => {
        await waitForStableGroup(groupId);
        await sleep(500);
        await producePaced(topic, workload, PACED_RATE);
      },
    });
  } finally {
    await deleteTopic(topic);
  }
}

export const e2eLatency: Scenario = {
  name: 'e2e-latency',
  title: '50 ms Target latency, concurrency 64: requests/s against Little’s law, event latency',
  async run(ctx) {
    const { distinctSmall } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinctSmall);
    const sandbox = await benchSandbox({ latencyMs: LATENCY_MS, createMissing: false });
    const backlog: SinkRunResult[] = [];
    let paced: SinkRunResult;
    try {
      for (let i = 0; i < ctx.runs; i++) {
        const r = await runSink(ctx, { topics: [topic], targetUrl: sandbox.url, delivery: { concurrency: CONCURRENCY }, label: 'e2e-latency' });
        if (!r.complete || r.failedRequests > 0) throw new Error(`e2e-latency run ${i + 1} incomplete or failing: ${JSON.stringify(r)}`);
        backlog.push(r);
        say(`  e2e-latency run ${i + 1}: ${int((r.requests * 1000) / r.requestSpanMs)} requests/s`);
      }
      paced = await pacedRun(ctx, sandbox.url);
      if (!paced.complete) throw new Error('the paced run did not complete');
      say(`  e2e-latency paced: p50 ${fixed(paced.heldMs.p50)} ms, p99 ${fixed(paced.heldMs.p99)} ms`);
    } finally {
      await sandbox.close();
    }
    const requestRates = backlog.map((r) => (r.requests * 1000) / r.requestSpanMs);
    const eventRates = backlog.map((r) => (r.events * 1000) / r.runMs);
    const requestRate = median(requestRates);
    const eventRate = median(eventRates);
    const ratio = requestRate / LITTLE;
    const met = ratio >= TARGET_RATIO;
    const mid = backlog[requestRates.indexOf(requestRate)] as SinkRunResult;
    const pacedRate = (paced.events * 1000) / paced.runMs;
    const markdown = [
      `Sandbox answers every update after ${LATENCY_MS} ms; connector concurrency ${CONCURRENCY} (other settings default), in a child`,
      `process. Little’s law: at most ${CONCURRENCY} / ${LATENCY_MS / 1000} s = ${int(LITTLE)} requests/s.`,
      '',
      `**Backlog** — ${int(distinctSmall.count)} pre-produced CRM events, distinct profiles, ${distinctSmall.partitions} partitions; requests/s from the first`,
      `request sent to the last one answered; medians of ${ctx.runs} runs.`,
      '',
      table(
        ['measure', 'median', 'runs (min–max)'],
        [
          ['requests/s', `**${int(requestRate)}**`, spread(requestRates)],
          [`share of Little’s law (${int(LITTLE)}/s)`, `**${percent(ratio)}**`, `target ≥ ${percent(TARGET_RATIO)}: **${met ? 'met' : 'not met'}**`],
          ['events/s (fetch → all committed)', int(eventRate), spread(eventRates)],
          ['connector CPU', `${fixed(mid.cpuSeconds / (mid.runMs / 1000), 2)} cores`, '—'],
          ['fetch → ack under the backlog, p50 / p99', `${int(mid.heldMs.p50)} / ${int(mid.heldMs.p99)} ms`, 'queueing: ≈ max_pending ÷ rate'],
        ],
      ),
      '',
      `**Paced** — ${int(paced.events)} events produced live at ${int(PACED_RATE)} events/s (≈ ${percent((PACED_RATE * (paced.requests / Math.max(1, paced.events))) / LITTLE)} of capacity)`,
      'into a fresh 4-partition topic once the group is stable; event-to-acknowledgement latency is measured inside the',
      'connector from the moment the event is handed to delivery after the fetch until Target’s answer settles it (one run).',
      '',
      table(
        ['p50', 'p90', 'p99', 'max', 'throughput'],
        [
          [
            `**${fixed(paced.heldMs.p50)} ms**`,
            `${fixed(paced.heldMs.p90)} ms`,
            `**${fixed(paced.heldMs.p99)} ms**`,
            `${fixed(paced.heldMs.max)} ms`,
            `${int(pacedRate)} events/s`,
          ],
        ],
      ),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: `e2e-latency (${LATENCY_MS} ms, concurrency ${CONCURRENCY})`,
          value: `${int(requestRate)} requests/s (${percent(ratio)} of ${int(LITTLE)})`,
          target: `≥ ${percent(TARGET_RATIO)} of Little’s law`,
          status: met ? 'met' : 'not met',
        },
        {
          figure: 'event → ack latency, paced at 1,000/s',
          value: `p50 ${fixed(paced.heldMs.p50)} ms, p99 ${fixed(paced.heldMs.p99)} ms`,
          target: '—',
          status: 'info',
        },
      ],
      figures: { requestRate, eventRate, ratio, pacedP50: paced.heldMs.p50, pacedP99: paced.heldMs.p99 },
    };
  },
};
