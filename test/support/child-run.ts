/** The connector as a child process for outage tests: its log lines, its memory, and the dead letters it wrote. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { exitOf, spawnRun, type TestResources } from './delivery-harness.js';
import { testKafka } from './kafka.js';

/** Starts `run` as a child that is killed after the test whatever happens; collects its log lines. */
export function runChild(resources: TestResources, config: string, args: string[] = []): { child: ChildProcess; lines: () => Array<Record<string, unknown>> } {
  const { child, lines } = watchChild(resources, spawnRun(config, args));
  return { child, lines };
}

/** Kills a connector child after the test whatever happens, and collects its log lines (stderr) and its stdout. */
export function watchChild(
  resources: TestResources,
  child: ChildProcess,
): { child: ChildProcess; lines: () => Array<Record<string, unknown>>; stdout: () => string } {
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  });
  const lines = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, lines, stdout: () => stdout };
}

/** Resident memory of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Messages in the dead-letter topic. */
export async function deadLetterCount(topic: string): Promise<number> {
  const admin = testKafka('dlq-count').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
