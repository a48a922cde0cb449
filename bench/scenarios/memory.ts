/**
 * memory: the shipped command, `target-profile-sink run --exit-when-idle`, drains a large backlog
 * while Target answers after 20 ms; its resident set size is read from /proc/<pid>/status every
 * second. Bounded memory means the RSS levels off once the pipeline is full, whatever the backlog.
 *
 * Two runs: as a user starts it (V8's default heap sizing, which on a big machine lets garbage
 * pile up before a full collection), and with the heap cap deploy/kubernetes sets
 * (NODE_OPTIONS=--max-old-space-size=192), stopped with SIGTERM after part of the backlog.
 */
import { spawn } from 'node:child_process';
import { withAdmin } from '../lib/kafka.js';
import { benchSandbox, prepare } from '../lib/pipeline.js';
import { table, type RunContext, type Scenario } from '../lib/scenario.js';
import { cpuSecondsOf, fixed, int, median, percent, repoPath, rssOf, say } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';
import { writeWorkspace } from '../lib/workspace.js';

const LATENCY_MS = 20;
/** Enough slots that 20 ms answers do not cap the rate below what the CPU allows (Little: 128 / 0.02 s = 6,400/s). */
const CONCURRENCY = 128;
const TARGET_MIB = 250;
/** The heap cap of deploy/kubernetes/deployment.yaml. */
const DEPLOYED_NODE_OPTIONS = '--max-old-space-size=192';

interface Sample {
  seconds: number;
  rssMiB: number;
  committed: number;
  cpuSeconds: number;
}

interface MemoryRun {
  label: string;
  samples: Sample[];
  peakMiB: number;
  events: number;
  totalSeconds: number;
  drainSeconds: number;
  cpuCores: number;
  steadyMedian: number;
  /** Highest RSS in each third of the steady phase. */
  thirds: number[];
  mibPerMinute: number;
  flat: boolean;
  /** V8 heap used before and after each full (mark-compact) collection, MB. */
  fullGcs: Array<{ before: number; after: number }>;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/**
 * One run of the CLI on the backlog topic with a fresh group; stops by itself when idle, or with
 * SIGTERM once `stopAfter` events are committed.
 */
async function measure(
  ctx: RunContext,
  label: string,
  topic: string,
  targetUrl: string,
  nodeOptions: string | undefined,
  stopAfter: number | undefined,
): Promise<MemoryRun> {
  const groupId = ctx.group(`memory-${label}`);
  const configPath = await writeWorkspace({ topics: [topic], targetUrl, groupId, delivery: { concurrency: CONCURRENCY } });
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.NODE_OPTIONS;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  const samples: Sample[] = [];
  let peakMiB = 0;
  let stderrTail = '';
  const started = performance.now();
  // A run stopped by SIGTERM goes without --exit-when-idle: with it, the idle poll's admin client
  // stays connected after a signal and the process never exits (reported, connector/cli/commands/run.ts).
  // --trace-gc (one stdout line per collection) shows the live heap after each full collection.
  const args = ['--trace-gc', '--import', 'tsx', repoPath('connector/cli/main.ts'), 'run', '--config', configPath];
  if (stopAfter === undefined) args.push('--exit-when-idle');
  const child = spawn(process.execPath, args, { cwd: repoPath('.'), stdio: ['ignore', 'pipe', 'pipe'], env });
  const pid = child.pid as number;
  const fullGcs: Array<{ before: number; after: number }> = [];
  let gcBuffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    gcBuffer += chunk.toString();
    const lines = gcBuffer.split('\n');
    gcBuffer = lines.pop() ?? '';
    for (const line of lines) {
      const m = /Mark-Compact(?: \(reduce\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/.exec(line);
      if (m) fullGcs.push({ before: Number(m[1]), after: Number(m[2]) });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  let signalled = false;
  // Never wait forever for an exit: kill it (and fail) well after a clean stop would be done.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 900_000);
  await withAdmin(async (admin) => {
    let lastSay = 0;
    while (running) {
      const rss = rssOf(pid);
      const cpu = cpuSecondsOf(pid);
      if (rss && cpu !== undefined) {
        peakMiB = Math.max(peakMiB, rss.peakMiB);
        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []);
        const committed = offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
        const seconds = (performance.now() - started) / 1000;
        samples.push({ seconds, rssMiB: rss.rssMiB, committed, cpuSeconds: cpu });
        if (seconds - lastSay >= 30) {
          lastSay = seconds;
          say(`  memory ${label}: ${int(seconds)} s, RSS ${int(rss.rssMiB)} MiB, ${int(committed)} committed`);
        }
        if (stopAfter !== undefined && committed >= stopAfter && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
        }
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    }
  });
  const code = await exited;
  clearTimeout(watchdog);
  if (code !== 0) throw new Error(`run (${label}) exited with ${code}\n${stderrTail}`);
  const totalSeconds = (performance.now() - started) / 1000;
  const events = samples.at(-1)?.committed ?? 0;
  const goal = stopAfter ?? events;
  // Steady: from the first sample with a quarter of the goal committed to the last one.
  const steady = samples.filter((s) => s.committed >= goal / 4);
  const third = Math.max(1, Math.floor(steady.length / 3));
  const thirds = [0, 1, 2].map((i) => Math.max(...steady.slice(i * third, i === 2 ? undefined : (i + 1) * third).map((s) => s.rssMiB)));
  const mibPerMinute = slope(steady.map((s) => [s.seconds / 60, s.rssMiB]));
  const steadyMedian = median(steady.map((s) => s.rssMiB));
  // Flat: no trend beyond noise, and the last third peaks no higher than the first (GC sawtooth aside).
  const flat = Math.abs(mibPerMinute) < 10 && (thirds[2] as number) <= (thirds[0] as number) * 1.1;
  const first = samples.find((s) => s.committed > 0);
  const last = samples.findLast((s) => s.committed < events) ?? samples.at(-1);
  const drainSeconds = first && last ? last.seconds - first.seconds : Number.NaN;
  const cpuCores = first && last ? (last.cpuSeconds - first.cpuSeconds) / drainSeconds : Number.NaN;
  say(`  memory ${label}: peak ${int(peakMiB)} MiB, steady ${int(steadyMedian)} MiB, ${int(events)} events in ${int(totalSeconds)} s`);
  return { label, samples, peakMiB, events, totalSeconds, drainSeconds, cpuCores, steadyMedian, thirds, mibPerMinute, flat, fullGcs };
}

function timeline(run: MemoryRun): string[][] {
  const { samples } = run;
  return Array.from({ length: 11 }, (_, i) => samples[Math.min(samples.length - 1, Math.round((i / 10) * (samples.length - 1)))])
    .filter((s): s is Sample => s !== undefined)
    .map((s) => [`${int(s.seconds)} s`, `${int(s.rssMiB)} MiB`, int(s.committed)]);
}

export const memory: Scenario = {
  name: 'memory',
  title: '1,000,000-event backlog, 20 ms latency: RSS of `run --exit-when-idle` over time',
  async run(ctx) {
    const { backlog } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(backlog);
    const capStop = Math.round(backlog.count * 0.3);
    const sandbox = await benchSandbox({ latencyMs: LATENCY_MS, createMissing: false });
    let plain: MemoryRun;
    let capped: MemoryRun;
    try {
      plain = await measure(ctx, 'default', topic, sandbox.url, undefined, undefined);
      capped = await measure(ctx, 'heap-capped', topic, sandbox.url, DEPLOYED_NODE_OPTIONS, capStop);
    } finally {
      await sandbox.close();
    }
    const complete = plain.events === backlog.count;
    const met = plain.peakMiB <= TARGET_MIB;
    const cappedMet = capped.peakMiB <= TARGET_MIB;
    const row = (r: MemoryRun) => [
      `**${int(r.peakMiB)} MiB**`,
      `${int(r.steadyMedian)} MiB`,
      r.thirds.map((m) => int(m)).join(' / ') + ' MiB',
      `${fixed(r.mibPerMinute, 1)} MiB/min → **${r.flat ? 'flat' : 'not flat'}**`,
      `${int(r.events)} in ${int(r.drainSeconds)} s (${int(r.events / r.drainSeconds)}/s, ${fixed(r.cpuCores, 2)} cores)`,
    ];
    const markdown = [
      '`node --trace-gc --import tsx connector/cli/main.ts run --config … --exit-when-idle` (the shipped command, metrics server off) on a',
      `backlog of ${int(backlog.count)} pre-produced CRM events (${backlog.partitions} partitions, 100,000 customers, uniform); sandbox in the`,
      `benchmark process answering after ${LATENCY_MS} ms, update-only (stores nothing, so it does not grow); connector`,
      `concurrency ${CONCURRENCY} (at 20 ms, the default 32 would allow only 1,600 requests/s and the backlog would take >10 minutes),`,
      'max_pending 10,000 (default). RSS from /proc/<pid>/status every second (VmHWM for the peak). One run each (the long ones):',
      '',
      `1. **default** — as a user starts it, V8 sizing its heap from the machine’s memory; drains the whole backlog${complete ? '' : ' (did NOT finish)'}.`,
      `2. **heap-capped** — \`run\` with \`NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS}\` as deploy/kubernetes/deployment.yaml runs it; same`,
      `   backlog from the start (new group), stopped with SIGTERM (clean drain) after ${int(capStop)} events are committed.`,
      '',
      table(
        ['run', 'peak RSS', 'steady median', 'max per third of steady phase', 'trend once steady', 'events (rate, CPU)'],
        [
          ['default', ...row(plain)],
          ['heap-capped', ...row(capped)],
        ],
      ),
      '',
      'V8 heap around full collections (from `--trace-gc`, both runs): ' +
        [plain, capped]
          .map(
            (r) =>
              `${r.label}: ${r.fullGcs.length} mark-compacts, heap used up to ${int(Math.max(0, ...r.fullGcs.map((g) => g.before)))} MB before one, ` +
              `live after one ${int(median(r.fullGcs.slice(1).map((g) => g.after)))} MB (median; max ${int(Math.max(0, ...r.fullGcs.slice(1).map((g) => g.after)))} MB)`,
          )
          .join('; ') +
        '. The first collection, during start-up, is left out of the live figures.',
      '',
      `Target ≤ ${TARGET_MIB} MB and flat: default **${met && plain.flat ? 'met' : 'not met'}** (peak ${int(plain.peakMiB)} MiB${plain.flat ? ', flat' : ', not flat'});`,
      `heap-capped **${cappedMet && capped.flat ? 'met' : 'not met'}** (peak ${int(capped.peakMiB)} MiB, ${percent(capped.peakMiB / TARGET_MIB)} of the target).`,
      '“Steady” starts once a quarter of the run’s events are committed.',
      '',
      'RSS of the default run over time (one row per tenth of the run):',
      '',
      table(['time', 'RSS', 'committed'], timeline(plain)),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: `memory (${int(backlog.count)} backlog, ${LATENCY_MS} ms), V8 defaults`,
          value: `peak ${int(plain.peakMiB)} MiB, steady ${int(plain.steadyMedian)} MiB, ${plain.flat ? 'flat' : 'not flat'}`,
          target: `≤ ${TARGET_MIB} MB, flat`,
          status: met && plain.flat ? 'met' : 'not met',
        },
        {
          figure: `memory, heap capped as deployed (${DEPLOYED_NODE_OPTIONS})`,
          value: `peak ${int(capped.peakMiB)} MiB, steady ${int(capped.steadyMedian)} MiB, ${capped.flat ? 'flat' : 'not flat'}`,
          target: `≤ ${TARGET_MIB} MB, flat`,
          status: cappedMet && capped.flat ? 'met' : 'not met',
        },
      ],
      figures: {
        peakMiB: plain.peakMiB,
        steadyMiB: plain.steadyMedian,
        cappedPeakMiB: capped.peakMiB,
        rate: plain.events / plain.drainSeconds,
        liveHeapMB: median(plain.fullGcs.slice(1).map((g) => g.after)),
      },
    };
  },
};
