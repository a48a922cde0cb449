/**
 * bulk: the bulk lane (issues 11 and 19). A 1,000,000-event backlog over 200,000 Zipf-popular
 * profiles, delivered by the shipped `backfill` command through the Bulk Profile Update API v2
 * against a sandbox that processes every batch for 2 s, then for 60 s, and enforces Target's 50
 * bulk calls a minute — with V8's default heap and with the Kubernetes example's — side by side
 * with the same backlog through single updates only (`run --exit-when-idle` with the bulk route
 * off, Target answering at once). Every run must leave each profile as the events applied one by
 * one in offset order would.
 */
import type { BackfillSummary } from '../../connector/apps/backfill/backfill.js';
import type { SandboxStats } from '../../connector/tools/sandbox/simulator.js';
import type { BatchSummary } from '../../connector/tools/sandbox/bulk-batches.js';
import { runCli, type CliRunResult } from '../lib/cli-run.js';
import { differingProfiles, expectedProfiles, type ExpectedProfiles } from '../lib/expected-profiles.js';
import { benchSandbox, prepare } from '../lib/pipeline.js';
import { table, type RunContext, type Scenario } from '../lib/scenario.js';
import { fixed, int, percent, say } from '../lib/util.js';
import { benchWorkloads, type Workload } from '../lib/workloads.js';
import { writeWorkspace } from '../lib/workspace.js';

const BULK_DELAY_MS = 2000;
/** Target's processing time in the second run: a backfill should cost one of it, not one per batch. */
const SLOW_BULK_DELAY_MS = 60_000;
const TARGET_SECONDS = 30;
const TARGET_SLOW_SECONDS = 90;
const TARGET_CALLS = 8;
const TARGET_MIB = 300;
const DAY_QUOTA = 1_000_000;
const RSS_EVERY_MS = 250;
const COMMITS_EVERY_MS = 250;
/** `backfill` with the defaults (it sets mode always itself): what a user runs. */
const BACKFILL_BULK = {};
/** The heap of the Kubernetes example (deploy/kubernetes/deployment.yaml), for run K. */
const KUBERNETES_HEAP_MB = 192;
/** Run B's quota: far above what it sends, so that pacing never stops it. */
const SINGLE_DAILY_QUOTA = 100_000_000;

/** What one run left behind, measured from outside the connector. */
interface Measured {
  cli: CliRunResult;
  stats: SandboxStats;
  /** Expected profiles the sandbox does not hold exactly (attributes compared one by one). */
  differing: number;
}

interface BulkRun extends Measured {
  summary: BackfillSummary;
  batches: BatchSummary[];
  calls: number;
}

interface SingleRun extends Measured {
  requests: number;
}

/**
 * Run A: `backfill --from earliest` on a fresh group, against a sandbox that takes 2 s per batch;
 * with `heapMB`, the child's old space is capped there (run A′).
 */
async function backfill(ctx: RunContext, topic: string, total: number, expected: ExpectedProfiles, delayMs: number, heapMB?: number): Promise<BulkRun> {
  const sandbox = await benchSandbox({ latencyMs: 0, createMissing: false, bulkDelayMs: delayMs });
  try {
    const groupId = ctx.group('bulk-backfill');
    const config = await writeWorkspace({ topics: [topic], targetUrl: sandbox.url, groupId, delivery: { bulk: BACKFILL_BULK } });
    const label = `bulk backfill, ${delayMs / 1000} s processing${heapMB === undefined ? '' : `, heap ${heapMB} MB`}`;
    const cli = await runCli({
      args: ['backfill', '--config', config, '--from', 'earliest'],
      label,
      nodeFlags: heapMB === undefined ? [] : [`--max-old-space-size=${heapMB}`],
      timeoutMs: 600_000,
      rssEveryMs: RSS_EVERY_MS,
      commits: { groupId, topic, total, everyMs: COMMITS_EVERY_MS },
    });
    if (cli.code !== 0 || !cli.allCommitted) throw new Error(`backfill exited with ${cli.code}, all committed: ${cli.allCommitted}\n${cli.stderrTail}`);
    const line = cli.stdout.trim().split('\n').at(-1) ?? '';
    const summary = JSON.parse(line) as BackfillSummary;
    const stats = sandbox.stats();
    const calls = stats.bulkRequests + stats.bulkStatusPolls + stats.requests;
    const differing = differingProfiles(sandbox, expected);
    say(
      `  ${label}: ${fixed(cli.seconds, 1)} s, ${calls} calls (${stats.bulkCallsRefused} refused), peak ${int(cli.peakMiB)} MiB, ${differing} profiles differ`,
    );
    return { cli, stats, differing, summary, batches: sandbox.batches(), calls };
  } finally {
    await sandbox.close();
  }
}

/** Run B: `run --exit-when-idle` with the bulk route off, Target answering at once, a quota that never binds. */
async function singleOnly(ctx: RunContext, topic: string, total: number, expected: ExpectedProfiles): Promise<SingleRun> {
  const sandbox = await benchSandbox({ latencyMs: 0, createMissing: true });
  try {
    const groupId = ctx.group('bulk-single');
    const config = await writeWorkspace({
      topics: [topic],
      targetUrl: sandbox.url,
      groupId,
      delivery: { daily_quota: SINGLE_DAILY_QUOTA, bulk: { mode: 'off' } },
    });
    const cli = await runCli({
      args: ['run', '--config', config, '--exit-when-idle'],
      label: 'bulk single-only',
      timeoutMs: 900_000,
      rssEveryMs: RSS_EVERY_MS,
      commits: { groupId, topic, total, everyMs: COMMITS_EVERY_MS },
    });
    if (cli.code !== 0 || !cli.allCommitted) throw new Error(`run exited with ${cli.code}, all committed: ${cli.allCommitted}\n${cli.stderrTail}`);
    const stats = sandbox.stats();
    const differing = differingProfiles(sandbox, expected);
    say(`  bulk single-only: ${fixed(cli.seconds, 1)} s, ${stats.requests} requests, peak ${int(cli.peakMiB)} MiB, ${differing} profiles differ`);
    return { cli, stats, differing, requests: stats.requests };
  } finally {
    await sandbox.close();
  }
}

/** Each batch on the run's time line: when it was accepted and applied, its rows and size. */
function batchRows(run: BulkRun): string[][] {
  const at = (iso: string) => `${fixed((Date.parse(iso) - run.cli.spawnedAt) / 1000, 1)} s`;
  return run.batches.map((b, i) => [String(i + 1), at(b.submittedAt), at(b.appliesAt), int(b.rows), `${fixed(b.bytes / 1e6, 1)} MB`]);
}

/** The population and its skew, with the share of events the most popular profile gets. */
function zipfText(w: Workload): string {
  if (w.profiles.kind !== 'zipf') return 'profiles';
  const { profiles, exponent } = w.profiles;
  let sum = 0;
  for (let rank = 1; rank <= profiles; rank++) sum += 1 / rank ** exponent;
  return `${int(profiles)} profiles with Zipf(s = ${exponent}) popularity (the top profile gets ≈ ${percent(1 / sum)} of the events)`;
}

/** Whether a bulk run left every profile exact, in order, within Target's call limit. */
function exact(run: BulkRun, expected: ExpectedProfiles): boolean {
  return run.differing === 0 && run.stats.profiles === expected.profiles.size && run.stats.bulkOrderViolations === 0;
}

export const bulk: Scenario = {
  name: 'bulk',
  title: '1,000,000-event backlog over 200,000 Zipf profiles: `backfill` by bulk (2 s and 60 s processing, 50 calls a minute) vs. single updates',
  async run(ctx) {
    const { bulkBacklog } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(bulkBacklog);
    const t0 = performance.now();
    const expected = await expectedProfiles(bulkBacklog);
    say(
      `  bulk: expected state of ${int(expected.profiles.size)} profiles from ${int(expected.updates)} updates in ${fixed((performance.now() - t0) / 1000, 1)} s`,
    );
    const a = await backfill(ctx, topic, bulkBacklog.count, expected, BULK_DELAY_MS);
    const slow = await backfill(ctx, topic, bulkBacklog.count, expected, SLOW_BULK_DELAY_MS);
    const k8s = await backfill(ctx, topic, bulkBacklog.count, expected, BULK_DELAY_MS, KUBERNETES_HEAP_MB);
    const b = await singleOnly(ctx, topic, bulkBacklog.count, expected);
    const runs = [a, slow, k8s];

    const stateOk = exact(a, expected);
    const singleStateOk = b.differing === 0 && b.stats.profiles === expected.profiles.size;
    const timeMet = a.cli.seconds <= TARGET_SECONDS;
    const callsMet = a.calls <= TARGET_CALLS;
    const rssMet = a.cli.peakMiB <= TARGET_MIB;
    const slowMet = slow.cli.seconds <= TARGET_SLOW_SECONDS && exact(slow, expected);
    const refusedNone = runs.every((r) => r.stats.bulkCallsRefused === 0);
    const k8sMet = exact(k8s, expected) && k8s.cli.peakMiB <= 256;
    const committedText = (r: CliRunResult) =>
      r.committedSeconds === undefined ? 'at the exit (committed before the last poll)' : `${fixed(r.committedSeconds, 1)} s`;
    const markdown = [
      `${int(bulkBacklog.count)} CRM events pre-produced on ${bulkBacklog.partitions} partitions (keyed by profile) over ${zipfText(bulkBacklog)}`,
      `— the skew of the coalescing scenario; ${int(expected.profiles.size)} of them get an update —`,
      `${int(expected.updates)} updates (the rest are filtered by \`when\`). The sandbox runs in the benchmark process and enforces Target's`,
      '50 bulk calls a minute (503 beyond); each run gets a fresh sandbox and a fresh consumer group; both commands are the shipped CLI in a',
      `child process (\`node --import tsx connector/cli/main.ts …\`), its RSS read from /proc/<pid>/status every ${RSS_EVERY_MS} ms (VmHWM included),`,
      `the group’s committed offsets polled every ${COMMITS_EVERY_MS} ms.`,
      '',
      `- **A, bulk**: \`target-profile-sink backfill --config … --from earliest\` with every \`delivery.bulk\` setting at its default`,
      `  (\`backfill\` sets \`mode: always\`); the sandbox processes each batch for ${BULK_DELAY_MS / 1000} s.`,
      `- **A60**: the same against a Target that takes ${SLOW_BULK_DELAY_MS / 1000} s per batch.`,
      `- **K**: A with the Kubernetes example's heap (\`--max-old-space-size=${KUBERNETES_HEAP_MB}\`, memory limit 256 Mi): \`max_pending\` is lowered to fit.`,
      `- **B, single updates only**: \`target-profile-sink run --config … --exit-when-idle\` with \`delivery.bulk.mode: off\`, sandbox`,
      `  latency 0 (as e2e-fast), storing profiles; \`daily_quota: ${int(SINGLE_DAILY_QUOTA)}\` so pacing never stops it; concurrency 32.`,
      '- Every run: the final state of every profile is compared attribute by attribute with every event decoded, mapped and applied',
      '  alone in offset order.',
      '',
      table(
        ['measure', 'A: bulk, 2 s', 'A60: bulk, 60 s', `K: bulk, heap ${KUBERNETES_HEAP_MB} MB`, 'B: single updates only'],
        [
          ['wall time, spawn → exit', ...runs.map((r) => `**${fixed(r.cli.seconds, 1)} s**`), `${fixed(b.cli.seconds, 1)} s`],
          ['spawn → every offset committed', ...runs.map((r) => committedText(r.cli)), committedText(b.cli)],
          [
            'HTTP calls to Target',
            ...runs.map(
              (r) =>
                `**${int(r.calls)}** (${int(r.stats.bulkRequests)} submits + ${int(r.stats.bulkStatusPolls)} status polls + ${int(r.stats.requests)} single)`,
            ),
            `${int(b.requests)} single updates`,
          ],
          ['bulk calls refused (over 50 a minute)', ...runs.map((r) => int(r.stats.bulkCallsRefused)), '—'],
          ['peak RSS of the connector', ...runs.map((r) => `**${int(r.cli.peakMiB)} MiB**`), `${int(b.cli.peakMiB)} MiB`],
          ['connector CPU', ...[...runs, b].map((r) => `${fixed(r.cli.cpuSeconds, 1)} s`)],
          [
            'batches / rows / bytes sent',
            ...runs.map((r) => `${int(r.summary.batches)} / ${int(r.summary.rows)} / ${fixed(r.summary.bytes / 1e6, 1)} MB`),
            '—',
          ],
          ['profiles in the sandbox (expected)', ...[...runs, b].map((r) => `${int(r.stats.profiles)} (${int(expected.profiles.size)})`)],
          ['profiles differing from the expected state', ...[...runs, b].map((r) => `**${int(r.differing)}**`)],
          ['bulk order violations (sandbox)', ...runs.map((r) => int(r.stats.bulkOrderViolations)), '—'],
        ],
      ),
      '',
      `\`backfill\`’s own summary line (A): \`${JSON.stringify(a.summary)}\``,
      '',
      'Batches on each run’s time line (seconds after the spawn):',
      '',
      table(
        ['run', 'batch', 'accepted', 'applied', 'rows', 'size'],
        [...batchRows(a).map((r) => ['A', ...r]), ...batchRows(slow).map((r) => ['A60', ...r]), ...batchRows(k8s).map((r) => ['K', ...r])],
      ),
      '',
      `Targets: A committed and exited in ≤ ${TARGET_SECONDS} s **${timeMet ? 'met' : 'not met'}** (${fixed(a.cli.seconds, 1)} s);`,
      `≤ ${TARGET_CALLS} HTTP calls **${callsMet ? 'met' : 'not met'}** (${int(a.calls)}); peak RSS ≤ ${TARGET_MIB} MB **${rssMet ? 'met' : 'not met'}**`,
      `(${int(a.cli.peakMiB)} MiB; MB read as MiB, as in the memory scenario); final state ${stateOk ? 'identical, no order violation' : '**WRONG**'}.`,
      `A60 in ≤ ${TARGET_SLOW_SECONDS} s **${slowMet ? 'met' : 'not met'}** (${fixed(slow.cli.seconds, 1)} s, state ${exact(slow, expected) ? 'identical' : '**WRONG**'}).`,
      `No bulk call refused for the 50-a-minute limit in any run: **${refusedNone ? 'met' : 'not met'}**.`,
      `K finishes within the Kubernetes example's 256 Mi: **${k8sMet ? 'met' : 'not met'}** (${int(k8s.cli.peakMiB)} MiB, ${fixed(k8s.cli.seconds, 1)} s).`,
      `The same work by single updates took ${int(b.requests)} requests, ${percent(b.requests / DAY_QUOTA)} of a day’s quota.`,
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: `bulk backfill (${int(bulkBacklog.count)} events, ${BULK_DELAY_MS / 1000} s processing): wall time`,
          value: `${fixed(a.cli.seconds, 1)} s`,
          target: `≤ ${TARGET_SECONDS} s`,
          status: timeMet ? 'met' : 'not met',
        },
        {
          figure: 'bulk backfill: HTTP calls (submits + status polls + single)',
          value: `${int(a.calls)} (${int(a.stats.bulkRequests)} + ${int(a.stats.bulkStatusPolls)} + ${int(a.stats.requests)})`,
          target: `≤ ${TARGET_CALLS}`,
          status: callsMet ? 'met' : 'not met',
        },
        {
          figure: 'bulk backfill: peak RSS',
          value: `${int(a.cli.peakMiB)} MiB`,
          target: `≤ ${TARGET_MIB} MB`,
          status: rssMet ? 'met' : 'not met',
        },
        {
          figure: 'bulk backfill: final state',
          value: `${int(a.differing)} of ${int(expected.profiles.size)} profiles differ, ${int(a.stats.bulkOrderViolations)} order violations`,
          target: 'every event applied in order',
          status: stateOk ? 'met' : 'not met',
        },
        {
          figure: `bulk backfill, ${SLOW_BULK_DELAY_MS / 1000} s processing: wall time`,
          value: `${fixed(slow.cli.seconds, 1)} s, ${int(slow.summary.batches)} batch(es), ${int(slow.calls)} calls; state ${exact(slow, expected) ? 'identical' : 'WRONG'}`,
          target: `≤ ${TARGET_SLOW_SECONDS} s`,
          status: slowMet ? 'met' : 'not met',
        },
        {
          figure: 'bulk calls refused for the 50-a-minute limit (all bulk runs)',
          value: runs.map((r) => int(r.stats.bulkCallsRefused)).join(' / '),
          target: '0',
          status: refusedNone ? 'met' : 'not met',
        },
        {
          figure: `bulk backfill under the Kubernetes example's heap (${KUBERNETES_HEAP_MB} MB, limit 256 Mi)`,
          value: `${fixed(k8s.cli.seconds, 1)} s, ${int(k8s.calls)} calls, peak ${int(k8s.cli.peakMiB)} MiB; state ${exact(k8s, expected) ? 'identical' : 'WRONG'}`,
          target: '≤ 256 MiB',
          status: k8sMet ? 'met' : 'not met',
        },
        {
          figure: 'same backlog by single updates only',
          value: `${int(b.requests)} requests (${percent(b.requests / DAY_QUOTA)} of a day’s quota), ${fixed(b.cli.seconds, 1)} s; state ${singleStateOk ? 'identical' : 'WRONG'}`,
          target: '—',
          status: 'info',
        },
      ],
      figures: {
        seconds: a.cli.seconds,
        calls: a.calls,
        peakMiB: a.cli.peakMiB,
        rows: a.summary.rows,
        batches: a.summary.batches,
        slowSeconds: slow.cli.seconds,
        slowCalls: slow.calls,
        k8sSeconds: k8s.cli.seconds,
        k8sPeakMiB: k8s.cli.peakMiB,
        singleSeconds: b.cli.seconds,
        singleRequests: b.requests,
        singlePeakMiB: b.cli.peakMiB,
      },
    };
  },
};
