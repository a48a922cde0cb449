/**
 * What an interrupted benchmark (Ctrl-C, SIGTERM) must not leave behind: the connector processes
 * it started, which would go on consuming, and what the run registered to undo (its consumer
 * groups, a broker or redis-server it started). Temporary folders go with the process's exit.
 */
import type { ChildProcess } from 'node:child_process';
import { say, sleep } from './util.js';

/** How long a connector process gets to stop cleanly before it is killed. */
const CHILD_STOP_MS = 5000;

const children = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();
let interrupted = false;

/** Kills `child` should the benchmark be interrupted while it runs. */
export function killOnInterrupt(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Runs `cleanup` should the benchmark be interrupted; the returned function unregisters it. */
export function cleanUpOnInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

async function interrupt(signal: NodeJS.Signals): Promise<void> {
  if (interrupted) return;
  interrupted = true;
  say(`${signal}: stopping the connector processes and undoing what this run set up`);
  // Taken now: a scenario whose children die unregisters its clean-up while starting it itself,
  // and the process must not exit before that clean-up ends. Most recent first: a scenario's
  // own set-up goes before the run's broker.
  const undo = [...cleanups].reverse();
  // SIGTERM first: a connector that stops cleanly leaves its consumer group, which can then be deleted.
  const exited = [...children].map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  for (const child of children) child.kill('SIGTERM');
  await Promise.race([Promise.all(exited), sleep(CHILD_STOP_MS)]);
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of undo) await cleanup().catch((error: unknown) => say(`  cleanup failed: ${String(error)}`));
  process.exit(130);
}

process.once('SIGINT', (signal) => void interrupt(signal));
process.once('SIGTERM', (signal) => void interrupt(signal));
