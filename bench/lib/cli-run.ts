/**
 * The shipped command in a child process, as a user starts it (`node --import tsx
 * connector/cli/main.ts …`), watched from outside: its resident set size read from /proc every
 * `rssEveryMs`, and optionally a consumer group's committed offsets polled until they reach the
 * backlog's end. The sandbox stays in the benchmark process, so the RSS is the connector's alone.
 */
import { spawn } from 'node:child_process';
import { killOnInterrupt } from './interrupt.js';
import { withAdmin } from './kafka.js';
import { cpuSecondsOf, repoPath, rssOf, say } from './util.js';

export interface CliRun {
  /** Arguments after `connector/cli/main.ts`, e.g. `['backfill', '--config', path]`. */
  args: string[];
  label: string;
  /** Kill the child (SIGKILL) if it has not exited after this long; the run then fails. */
  timeoutMs: number;
  rssEveryMs: number;
  /** Poll this group's committed offsets on `topic` every `everyMs` until they sum to `total`. */
  commits?: { groupId: string; topic: string; total: number; everyMs: number };
  /** Flags for the child's node, as a deployment's NODE_OPTIONS would give them (e.g. `--max-old-space-size=512`). */
  nodeFlags?: string[];
}

export interface RssSample {
  /** Since the spawn. */
  seconds: number;
  rssMiB: number;
}

export interface CliRunResult {
  code: number | null;
  stdout: string;
  stderrTail: string;
  /** Date.now() at the spawn, to place the sandbox's own timestamps on the run's time line. */
  spawnedAt: number;
  /** Spawn → exit. */
  seconds: number;
  /** Spawn → the first poll that found every offset committed; undefined when none did before the exit. */
  committedSeconds: number | undefined;
  /** Every offset committed, checked once more after the exit; undefined without `commits`. */
  allCommitted: boolean | undefined;
  /** The highest of VmHWM (the kernel's peak) and every VmRSS sample, MiB. */
  peakMiB: number;
  samples: RssSample[];
  /** CPU seconds (user + system) of the child at its last sample. */
  cpuSeconds: number;
}

/** Runs the CLI to its exit; throws nothing for a non-zero exit (the caller judges the code). */
export async function runCli(run: CliRun): Promise<CliRunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  // The benchmark's own flags (e.g. tsx's loader) are not what a user's process runs with.
  delete env.NODE_OPTIONS;
  const spawnedAt = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, [...(run.nodeFlags ?? []), '--import', 'tsx', repoPath('connector/cli/main.ts'), ...run.args], {
    cwd: repoPath('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  killOnInterrupt(child);
  const pid = child.pid as number;
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-8000);
    if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const elapsed = () => (performance.now() - started) / 1000;
  let running = true;
  let seconds = Number.NaN;
  void exited.then(() => {
    running = false;
    seconds = elapsed();
  });
  const watchdog = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs);
  const tick = (ms: number) => Promise.race([exited, new Promise((resolve) => setTimeout(resolve, ms))]);

  const samples: RssSample[] = [];
  let peakMiB = 0;
  let cpuSeconds = 0;
  const sampleRss = async () => {
    let lastSay = 0;
    while (running) {
      const rss = rssOf(pid);
      if (rss) {
        const seconds = elapsed();
        samples.push({ seconds, rssMiB: rss.rssMiB });
        peakMiB = Math.max(peakMiB, rss.peakMiB, rss.rssMiB);
        cpuSeconds = cpuSecondsOf(pid) ?? cpuSeconds;
        if (seconds - lastSay >= 15) {
          lastSay = seconds;
          say(`  ${run.label}: ${Math.round(seconds)} s, RSS ${Math.round(rss.rssMiB)} MiB`);
        }
      }
      await tick(run.rssEveryMs);
    }
  };
  let committedSeconds: number | undefined;
  let allCommitted: boolean | undefined;
  const watchCommits = async (commits: NonNullable<CliRun['commits']>) =>
    withAdmin(async (admin) => {
      const complete = async () => {
        const offsets = await admin.fetchOffsets({ groupId: commits.groupId, topics: [commits.topic] }).catch(() => []);
        return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) >= commits.total;
      };
      while (running && committedSeconds === undefined) {
        if (await complete()) committedSeconds = elapsed();
        else await tick(commits.everyMs);
      }
      await exited;
      allCommitted = committedSeconds !== undefined || (await complete());
    });
  const [code] = await Promise.all([exited, sampleRss(), run.commits ? watchCommits(run.commits) : undefined]);
  clearTimeout(watchdog);
  return { code, stdout, stderrTail, spawnedAt, seconds, committedSeconds, allCommitted, peakMiB, samples, cpuSeconds };
}
