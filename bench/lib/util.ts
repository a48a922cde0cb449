/** Small helpers shared by the benchmark scenarios: statistics, formatting, the machine, paths. */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file in the repository. */
export function repoPath(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/** The median of some numbers (the lower middle for an even count, so it is always a real run). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/** The q-quantile (0..1) of some numbers, nearest rank. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** 12,345 */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** 12.3 */
export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** 87% */
export function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'n/a';
}

/** "min–max" of the runs, for the spread column. */
export function spread(values: readonly number[], format: (n: number) => string = int): string {
  if (values.length <= 1) return '—';
  return `${format(Math.min(...values))}–${format(Math.max(...values))}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Cores, memory, CPU model and Node version, as the report states them. */
export interface Machine {
  cores: number;
  memoryGiB: number;
  cpu: string;
  node: string;
  kernel: string;
}

export function machine(): Machine {
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // Not Linux: the report just says unknown.
  }
  return {
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    node: process.version,
    kernel,
  };
}

/** 1-minute load average and how many other node/java processes use CPU, for the conditions note. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** Resident set size and its peak (VmHWM) of a process, in MiB, from /proc/<pid>/status. */
export function rssOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const rssMiB = kib('VmRSS') / 1024;
    const peakMiB = kib('VmHWM') / 1024;
    // A process that is exiting (a zombie) has no memory lines any more.
    return Number.isFinite(rssMiB) && Number.isFinite(peakMiB) ? { rssMiB, peakMiB } : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Seeded so generated workloads are the same on every run. */
export { seededRandom } from '../../connector/core/seeded-random.js';

/** Logs a progress line for the person running the benchmark (stderr, so stdout stays the report). */
export function say(message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${time}] ${message}\n`);
}

/** Busy and total CPU time of the whole machine so far, in seconds (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((s, n) => s + n, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

let brokerPidCache: number | undefined | null = null;

/** The pid of a local Kafka broker JVM (kafka.Kafka), if one runs on this machine. */
export function brokerPid(): number | undefined {
  if (brokerPidCache !== null) return brokerPidCache;
  brokerPidCache = undefined;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmdline.includes('kafka.Kafka')) {
          brokerPidCache = Number(entry);
          break;
        }
      } catch {
        // The process ended while we looked.
      }
    }
  } catch {
    // No /proc.
  }
  return brokerPidCache;
}

/** CPU use of this process (the sandbox), the broker and the whole machine over a window, in cores. */
export interface CpuWindow {
  seconds: number;
  sandboxCores: number;
  brokerCores: number;
  machineCores: number;
}

/** Starts measuring; call the returned function at the end of the window. */
export function cpuWindow(): () => CpuWindow {
  const started = performance.now();
  const self = process.cpuUsage();
  const pid = brokerPid();
  const broker = pid === undefined ? undefined : cpuSecondsOf(pid);
  const machineBefore = machineCpuSeconds();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(self);
    const brokerAfter = pid === undefined ? undefined : cpuSecondsOf(pid);
    const machineAfter = machineCpuSeconds();
    return {
      seconds,
      sandboxCores: (own.user + own.system) / 1e6 / seconds,
      brokerCores: broker !== undefined && brokerAfter !== undefined ? (brokerAfter - broker) / seconds : Number.NaN,
      machineCores: (machineAfter.busy - machineBefore.busy) / seconds,
    };
  };
}
