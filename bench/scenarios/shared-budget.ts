/**
 * shared-budget: what the fleet's shared quota (issue 12) costs. e2e-latency's backlog (Target
 * answers after 50 ms, concurrency 64) run with `quota_store: local` and with `quota_store: redis`
 * against a real redis-server on loopback, the two alternating run by run so that the machine's
 * noise falls on both alike. Target: redis sends ≤ 5% fewer requests/s than local.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SinkRunResult } from '../child/sink-runner.js';
import { cleanUpOnInterrupt } from '../lib/interrupt.js';
import { benchSandbox, prepare, runSink } from '../lib/pipeline.js';
import { table, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, percent, repoPath, say, spread } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';
import { CONCURRENCY, LATENCY_MS } from './e2e-latency.js';

const run = promisify(execFile);
/** Most the shared budget may cost: redis's requests/s at least 95% of local's. */
const TARGET_RATIO = 0.95;

/** A redis-server from scripts/redis.sh in a folder of its own; resolves with its URL and its stop. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'tps-bench-redis-'));
  const script = (command: 'start' | 'stop') => run('bash', [repoPath('scripts/redis.sh'), command], { env: { ...process.env, REDIS_HOME_DIR: home } });
  try {
    const { stdout } = await script('start');
    let stopped: Promise<void> | undefined;
    const stop = async () => {
      try {
        await script('stop');
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    };
    // Once only: an interrupt and the scenario's own clean-up may both ask.
    return { url: stdout.trim(), stop: () => (stopped ??= stop()) };
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

const rateOf = (r: SinkRunResult) => (r.requests * 1000) / r.requestSpanMs;

export const sharedBudget: Scenario = {
  name: 'shared-budget',
  title: 'e2e-latency with the quota in Redis (loopback) vs local: requests/s',
  async run(ctx) {
    const { distinctSmall } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinctSmall);
    const sandbox = await benchSandbox({ latencyMs: LATENCY_MS, createMissing: false });
    const redis = await startRedis();
    const forget = cleanUpOnInterrupt(redis.stop);
    const local: number[] = [];
    const shared: number[] = [];
    try {
      for (let i = 0; i < ctx.runs; i++) {
        for (const [label, store, rates] of [
          ['local', { kind: 'local' }, local],
          ['redis', { kind: 'redis', url: redis.url, key_prefix: `bench-${Date.now().toString(36)}-${i}` }, shared],
        ] as const) {
          const r = await runSink(ctx, {
            topics: [topic],
            targetUrl: sandbox.url,
            delivery: { concurrency: CONCURRENCY, quota_store: store },
            label: `shared-budget-${label}`,
          });
          if (!r.complete || r.failedRequests > 0) throw new Error(`shared-budget ${label} run ${i + 1} incomplete or failing: ${JSON.stringify(r)}`);
          rates.push(rateOf(r));
          say(`  shared-budget ${label} run ${i + 1}: ${int(rateOf(r))} requests/s`);
        }
      }
    } finally {
      forget();
      await redis.stop();
      await sandbox.close();
    }
    const localRate = median(local);
    const sharedRate = median(shared);
    const ratio = sharedRate / localRate;
    const met = ratio >= TARGET_RATIO;
    const markdown = [
      `e2e-latency’s backlog (${int(distinctSmall.count)} CRM events, distinct profiles, ${distinctSmall.partitions} partitions; Target answers after`,
      `${LATENCY_MS} ms; concurrency ${CONCURRENCY}), one connector in a child process, run ${ctx.runs} times with each quota store, the two`,
      'alternating run by run. `redis`: a real redis-server (scripts/redis.sh) on 127.0.0.1 without persistence, a fresh',
      '`key_prefix` per run; the rest of `quota_store` default. requests/s from the first request sent to the last one answered.',
      '',
      table(
        ['quota_store', 'requests/s (median)', 'runs (min–max)'],
        [
          ['local', int(localRate), spread(local)],
          ['redis (loopback)', int(sharedRate), spread(shared)],
          ['redis ÷ local', `**${percent(ratio)}**`, `target ≥ ${percent(TARGET_RATIO)}: **${met ? 'met' : 'not met'}**`],
        ],
      ),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: 'shared budget (Redis, loopback) vs local, e2e-latency',
          value: `${int(sharedRate)} vs ${int(localRate)} requests/s (${ratio >= 1 ? 'none fewer' : `${fixed((1 - ratio) * 100, 1)}% fewer`})`,
          target: `≤ ${fixed((1 - TARGET_RATIO) * 100, 0)}% fewer`,
          status: met ? 'met' : 'not met',
        },
      ],
      figures: { localRate, sharedRate, ratio },
    };
  },
};
