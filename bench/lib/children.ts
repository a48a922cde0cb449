/**
 * Child processes of the benchmark. The code under test runs in its own Node process so that the
 * in-process sandbox (the benchmark's "Target") never shares an event loop with it: on two cores
 * the connector, the sandbox and the broker then each get what the OS gives them.
 *
 * Protocol: the parent forks `bench/child/<role>.ts` through tsx, sends `{type:'start', params}`;
 * the child answers `{type:'ready'}` once connected (optional) and `{type:'result', result}` or
 * `{type:'error', message}` at the end, then exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { killOnInterrupt } from './interrupt.js';
import { repoPath } from './util.js';

export interface ChildHandle<R> {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the child's result; rejects when it reports an error or exits without one. */
  readonly result: Promise<R>;
  /** Resolves when the child says it is ready. */
  readonly ready: Promise<void>;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
}

export interface ChildOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
  /** Kill the child (SIGKILL) if it has not reported after this long. */
  timeoutMs?: number;
  /** Called when the child marks a moment (e.g. its first event), for measurements in the parent. */
  onMark?: (name: string) => void;
}

type Message = { type: 'ready' } | { type: 'mark'; name: string } | { type: 'result'; result: unknown } | { type: 'error'; message: string };

export function startChild<P, R>(role: string, params: P, options: ChildOptions = {}): ChildHandle<R> {
  const child = fork(repoPath(`bench/child/${role}.ts`), [], {
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  killOnInterrupt(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
    if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<R>((resolve, reject) => {
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${role} did not finish within ${options.timeoutMs} ms\n${stderr}`));
          }, options.timeoutMs);
    child.on('message', (raw) => {
      const message = raw as Message;
      if (message.type === 'ready') markReady();
      else if (message.type === 'mark') options.onMark?.(message.name);
      else if (message.type === 'result') {
        clearTimeout(timer);
        resolve(message.result as R);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${role}: ${message.message}\n${stderr}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${signal ?? code}) without a result\n${stderr}`));
    });
  });
  // Both are observed by the caller at different times; never leave a rejection unhandled.
  result.catch(() => undefined);
  child.send({ type: 'start', params });
  return { pid: child.pid as number, process: child, result, ready, exited };
}
