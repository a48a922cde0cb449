/**
 * bulk: the bulk lane (issue 11). A 1,000,000-event backlog over 200,000 Zipf-popular profiles,
 * delivered by the shipped `backfill` command through the Bulk Profile Update API v2 against a
 * sandbox that processes every batch for 2 s — with V8's default heap and with the heap README
 * advises for bulk — side by side with the same backlog through single updates only (`run
 * --exit-when-idle` with the bulk route off, Target answering at once). Every run must leave each
 * profile as the events applied one by one in offset order would.
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
const TARGET_SECONDS = 60;
const TARGET_CALLS = 50;
const TARGET_MIB = 400;
const DAY_QUOTA = 1_000_000;
const RSS_EVERY_MS = 250;
const COMMITS_EVERY_MS = 250;
/**
 * `delivery.bulk` as a user would set it for a one-off backfill against a Target that takes 2 s
 * per batch; `backfill` itself sets mode always. Polling more often than Target processes costs
 * calls without settling a row sooner, so the status is asked for every 2 s (one poll per batch
 * when Target is on time). linger_ms and max_pending keep their defaults: a shorter linger splits
 * the backlog into more, smaller batches (more calls); a longer one delays the rows of busy
 * profiles that queue behind a pending row while the pipeline is full (10 s doubled the wall
 * time); holding more events costs memory, fewer makes more rounds of batches.
 */
const BACKFILL_BULK = { poll_interval_ms: 2000 };
/** The heap docs/operations.md (Memory) tells operators to give bulk, for run A′. */
const ADVISED_HEAP_MB = 512;
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
async function backfill(ctx: RunContext, topic: string, total: number, expected: ExpectedProfiles, heapMB?: number): Promise<BulkRun> {
  const sandbox = await benchSandbox({ latencyMs: 0, createMissing: false, bulkDelayMs: BULK_DELAY_MS });
  try {
    const groupId = ctx.group('bulk-backfill');
    const config = await writeWorkspace({ topics: [topic], targetUrl: sandbox.url, groupId, delivery: { bulk: BACKFILL_BULK } });
    const label = heapMB === undefined ? 'bulk backfill' : `bulk backfill, heap ${heapMB} MB`;
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
    say(`  ${label}: ${fixed(cli.seconds, 1)} s, ${calls} calls, peak ${int(cli.peakMiB)} MiB, ${differing} profiles differ`);
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

export const bulk: Scenario = {
  name: 'bulk',
  title: '1,000,000-event backlog over 200,000 Zipf profiles: `backfill` by bulk (2 s processing) vs. single updates',
  async run(ctx) {
    const { bulkBacklog } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(bulkBacklog);
    const t0 = performance.now();
    const expected = await expectedProfiles(bulkBacklog);
    say(
      `  bulk: expected state of ${int(expected.profiles.size)} profiles from ${int(expected.updates)} updates in ${fixed((performance.now() - t0) / 1000, 1)} s`,
    );
    const a = await backfill(ctx, topic, bulkBacklog.count, expected);
    const capped = await backfill(ctx, topic, bulkBacklog.count, expected, ADVISED_HEAP_MB);
    const b = await singleOnly(ctx, topic, bulkBacklog.count, expected);

    const aSeconds = a.cli.seconds;
    const stateOk = a.differing === 0 && a.stats.profiles === expected.profiles.size && a.stats.bulkOrderViolations === 0;
    const singleStateOk = b.differing === 0 && b.stats.profiles === expected.profiles.size;
    const timeMet = aSeconds <= TARGET_SECONDS;
    const callsMet = a.calls <= TARGET_CALLS;
    const rssMet = a.cli.peakMiB <= TARGET_MIB;
    const cappedStateOk = capped.differing === 0 && capped.stats.profiles === expected.profiles.size && capped.stats.bulkOrderViolations === 0;
    const cappedMet = capped.cli.seconds <= TARGET_SECONDS && capped.calls <= TARGET_CALLS && capped.cli.peakMiB <= TARGET_MIB && cappedStateOk;
    const committedText = (r: CliRunResult) =>
      r.committedSeconds === undefined ? 'at the exit (committed before the last poll)' : `${fixed(r.committedSeconds, 1)} s`;
    const settings = Object.entries(BACKFILL_BULK)
      .map(([k, v]) => `\`${k}: ${v}\``)
      .join(', ');
    const markdown = [
      `${int(bulkBacklog.count)} CRM events pre-produced on ${bulkBacklog.partitions} partitions (keyed by profile) over ${zipfText(bulkBacklog)}`,
      `— the skew of the coalescing scenario; ${int(expected.profiles.size)} of them get an update —`,
      `${int(expected.updates)} updates (the rest are filtered by \`when\`). The sandbox runs in the benchmark process; each run gets a fresh`,
      'sandbox and a fresh consumer group; both commands are the shipped CLI in a child process (`node --import tsx connector/cli/main.ts …`),',
      `its RSS read from /proc/<pid>/status every ${RSS_EVERY_MS} ms (VmHWM included), the group’s committed offsets polled every ${COMMITS_EVERY_MS} ms.`,
      '',
      `- **A, bulk**: \`target-profile-sink backfill --config … --from earliest\`; sandbox bulk processing delay ${BULK_DELAY_MS / 1000} s`,
      `  (\`bulkDelayMs: ${BULK_DELAY_MS}\`); \`delivery.bulk\`: ${settings} (polling faster than Target processes costs calls and settles`,
      '  nothing sooner: one poll per batch when Target is on time), the rest defaults: linger_ms 2000 (shorter splits the backlog',
      '  into more, smaller batches; longer delays the rows of busy profiles queued behind a pending row while the pipeline is',
      '  full), max_pending 200,000 (more costs memory, fewer makes more rounds of batches), max_rows 500,000, max_bytes',
      '  50,000,000. `backfill` sets `mode: always` itself.',
      `- **A′**: A again with \`--max-old-space-size=${ADVISED_HEAP_MB}\` for the child, the heap docs/operations.md (Memory) advises for bulk.`,
      `- **B, single updates only**: \`target-profile-sink run --config … --exit-when-idle\` with \`delivery.bulk.mode: off\`, sandbox`,
      `  latency 0 (as e2e-fast), storing profiles; \`daily_quota: ${int(SINGLE_DAILY_QUOTA)}\` so pacing never stops it; concurrency 32.`,
      '- Every run: the final state of every profile is compared attribute by attribute with every event decoded, mapped and applied',
      '  alone in offset order.',
      '',
      table(
        ['measure', 'A: bulk (`backfill`)', `A′: bulk, heap ${ADVISED_HEAP_MB} MB`, 'B: single updates only'],
        [
          ['wall time, spawn → exit', ...[a, capped].map((r) => `**${fixed(r.cli.seconds, 1)} s**`), `${fixed(b.cli.seconds, 1)} s`],
          ['spawn → every offset committed', committedText(a.cli), committedText(capped.cli), committedText(b.cli)],
          [
            'HTTP calls to Target',
            ...[a, capped].map(
              (r) =>
                `**${int(r.calls)}** (${int(r.stats.bulkRequests)} submits + ${int(r.stats.bulkStatusPolls)} status polls + ${int(r.stats.requests)} single)`,
            ),
            `${int(b.requests)} single updates`,
          ],
          ['peak RSS of the connector', ...[a, capped].map((r) => `**${int(r.cli.peakMiB)} MiB**`), `${int(b.cli.peakMiB)} MiB`],
          ['single-update calls', int(a.stats.requests), int(capped.stats.requests), int(b.requests)],
          [
            'updates the events make (one per mapped event)',
            int(expected.updates),
            int(expected.updates),
            `${int(expected.updates)} (merged into ${int(b.requests)} requests)`,
          ],
          [
            `share of a day’s ${int(DAY_QUOTA)} update quota`,
            percent(a.stats.requests / DAY_QUOTA),
            percent(capped.stats.requests / DAY_QUOTA),
            `**${percent(b.requests / DAY_QUOTA)}**`,
          ],
          ['connector CPU', `${fixed(a.cli.cpuSeconds, 1)} s`, `${fixed(capped.cli.cpuSeconds, 1)} s`, `${fixed(b.cli.cpuSeconds, 1)} s`],
          [
            'batches / rows / bytes sent',
            ...[a, capped].map((r) => `${int(r.summary.batches)} / ${int(r.summary.rows)} / ${fixed(r.summary.bytes / 1e6, 1)} MB`),
            '—',
          ],
          ['profiles in the sandbox (expected)', ...[a, capped, b].map((r) => `${int(r.stats.profiles)} (${int(expected.profiles.size)})`)],
          ['profiles differing from the expected state', ...[a, capped, b].map((r) => `**${int(r.differing)}**`)],
          ['bulk order violations (sandbox)', int(a.stats.bulkOrderViolations), int(capped.stats.bulkOrderViolations), '—'],
        ],
      ),
      '',
      `\`backfill\`’s own summary line: \`${JSON.stringify(a.summary)}\``,
      '',
      'A’s batches on its time line (seconds after the spawn; the sandbox applies a batch 2 s after accepting it):',
      '',
      table(['batch', 'accepted', 'applied', 'rows', 'size'], batchRows(a)),
      '',
      `Targets for A: committed in ≤ ${TARGET_SECONDS} s **${timeMet ? 'met' : 'not met'}** (${fixed(aSeconds, 1)} s from the spawn);`,
      `≤ ${TARGET_CALLS} HTTP calls **${callsMet ? 'met' : 'not met'}** (${int(a.calls)}); peak RSS ≤ ${TARGET_MIB} MB **${rssMet ? 'met' : 'not met'}**`,
      `(${int(a.cli.peakMiB)} MiB; MB read as MiB, as in the memory scenario); final state ${stateOk ? 'identical, no order violation' : '**WRONG**'}.`,
      `With the heap docs/operations.md (Memory) advises (A′): ${fixed(capped.cli.seconds, 1)} s, ${int(capped.calls)} calls, peak ${int(capped.cli.peakMiB)} MiB ; the three targets at once`,
      `${cappedMet ? '**met**' : '**not met**'}; final state ${cappedStateOk ? 'identical, no order violation' : '**WRONG**'}.`,
      `The same work by single updates took ${int(b.requests)} requests, ${percent(b.requests / DAY_QUOTA)} of a day’s quota.`,
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: `bulk backfill (${int(bulkBacklog.count)} events, ${BULK_DELAY_MS / 1000} s processing): wall time`,
          value: `${fixed(aSeconds, 1)} s`,
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
          figure: `bulk backfill with the advised heap (--max-old-space-size=${ADVISED_HEAP_MB}): time, calls, peak RSS`,
          value: `${fixed(capped.cli.seconds, 1)} s, ${int(capped.calls)} calls, ${int(capped.cli.peakMiB)} MiB; state ${cappedStateOk ? 'identical' : 'WRONG'}`,
          target: `≤ ${TARGET_SECONDS} s, ≤ ${TARGET_CALLS}, ≤ ${TARGET_MIB} MB`,
          status: cappedMet ? 'met' : 'not met',
        },
        {
          figure: 'same backlog by single updates only',
          value: `${int(b.requests)} requests (${percent(b.requests / DAY_QUOTA)} of a day’s quota), ${fixed(b.cli.seconds, 1)} s; state ${singleStateOk ? 'identical' : 'WRONG'}`,
          target: '—',
          status: 'info',
        },
      ],
      figures: {
        seconds: aSeconds,
        calls: a.calls,
        peakMiB: a.cli.peakMiB,
        rows: a.summary.rows,
        batches: a.summary.batches,
        cappedSeconds: capped.cli.seconds,
        cappedCalls: capped.calls,
        cappedPeakMiB: capped.cli.peakMiB,
        singleSeconds: b.cli.seconds,
        singleRequests: b.requests,
        singlePeakMiB: b.cli.peakMiB,
      },
    };
  },
};
