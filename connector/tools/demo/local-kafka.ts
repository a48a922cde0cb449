/**
 * The demo's Kafka: a cluster named by the user, or the project's single-node broker started
 * through `scripts/kafka.sh`. It remembers whether it started the broker so that it stops only that.
 */
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { DemoError } from './errors.js';
import { packageFile } from './package-files.js';

/**
 * Where the brokers came from: `given` by the user (KAFKA_BROKERS), `started` by this run (which
 * stops it again), or `reused`: the local broker was already running and stays running.
 */
export type KafkaOrigin = 'given' | 'started' | 'reused';

/** Brokers to use and how to give them back. */
export interface KafkaHandle {
  brokers: string[];
  origin: KafkaOrigin;
  /** Stops the broker if this run started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** Where the brokers come from: a comma-separated list (KAFKA_BROKERS), or the local script. */
export interface ProvideKafkaOptions {
  brokers?: string;
  /** Passed on to the script (KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_HOME_DIR, JAVA_HOME, PATH…). */
  env?: NodeJS.ProcessEnv;
  /** Receives each progress line of the script (first use fetches jars, which takes a while); stderr by default. */
  progress?: (line: string) => void;
}

const SCRIPT = packageFile('scripts/kafka.sh');
// The script's last word when it fails; everything after the prefix is meant for the user.
const SCRIPT_ERROR = 'kafka.sh: error: ';

/** Uses the given brokers, or starts (or reuses) the local broker and reports which it did. */
export async function provideKafka(options: ProvideKafkaOptions = {}): Promise<KafkaHandle> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.brokers !== undefined && options.brokers.trim() !== '') {
    const brokers = options.brokers
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
    return { brokers, origin: 'given', stop: async () => {} };
  }
  const outcome = await runScript('start', env, progress);
  if (outcome.code !== 0) {
    throw new DemoError(
      `the local Kafka broker did not start: ${outcome.reason ?? `scripts/kafka.sh start exited with ${outcome.code}`}. ` +
        'Set KAFKA_BROKERS=host:port to use a running cluster instead.',
    );
  }
  if (outcome.stdout !== 'started' && outcome.stdout !== 'reused') {
    throw new DemoError(`scripts/kafka.sh start answered ${JSON.stringify(outcome.stdout)} instead of "started" or "reused"`);
  }
  const origin = outcome.stdout;
  return {
    brokers: [`127.0.0.1:${env.KAFKA_PORT ?? '9092'}`],
    origin,
    async stop() {
      if (origin !== 'started') return;
      const stopped = await runScript('stop', env, progress);
      if (stopped.code !== 0) throw new DemoError(`scripts/kafka.sh stop failed: ${stopped.reason ?? `exit status ${stopped.code}`}`);
    },
  };
}

interface ScriptOutcome {
  code: number;
  /** Trimmed stdout: the script's answer. */
  stdout: string;
  /** Why it failed, in the script's words, when it said so. */
  reason?: string;
}

/** Runs the script, handing its stderr lines (colour codes removed) to `progress`. */
function runScript(command: 'start' | 'stop', env: NodeJS.ProcessEnv, progress: (line: string) => void): Promise<ScriptOutcome> {
  return new Promise((resolve, reject) => {
    // Detached: a Ctrl-C in the terminal must not kill the script half-way through start-up,
    // since the demo then could not tell whether a broker was left running; it waits instead.
    const child = spawn('bash', [SCRIPT, command], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    let reason: string | undefined;
    const onLine = (raw: string) => {
      const line = stripVTControlCharacters(raw);
      // The reason travels in the DemoError; printing it here too would say it twice.
      if (line.startsWith(SCRIPT_ERROR)) reason = line.slice(SCRIPT_ERROR.length);
      else progress(line);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.once('error', (err) => reject(new DemoError(`cannot run scripts/kafka.sh: ${err.message}`, { cause: err })));
    child.once('close', (code) => {
      if (pending !== '') onLine(pending);
      resolve({ code: code ?? 1, stdout: stdout.trim(), ...(reason !== undefined && { reason }) });
    });
  });
}
