/**
 * The demo's Kafka: a cluster named by the user, or the project's single-node broker started
 * through `scripts/kafka.sh`. It remembers whether it started the broker so that it stops only that.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DemoError } from './errors.js';
import { packageFile } from './package-files.js';

/** Brokers to use and how to give them back. */
export interface KafkaHandle {
  brokers: string[];
  /** True when this run started the broker (and so will stop it). */
  started: boolean;
  /** Stops the broker if this run started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** Where the brokers come from: a comma-separated list (KAFKA_BROKERS), or the local script. */
export interface ProvideKafkaOptions {
  brokers?: string;
  /** Read for PATH (to find Java) and KAFKA_PORT; passed on to the script. */
  env?: NodeJS.ProcessEnv;
}

const SCRIPT = packageFile('scripts/kafka.sh');

/** Uses the given brokers, or starts (or reuses) the local broker and reports which it did. */
export async function provideKafka(options: ProvideKafkaOptions = {}): Promise<KafkaHandle> {
  const env = options.env ?? process.env;
  if (options.brokers !== undefined && options.brokers.trim() !== '') {
    const brokers = options.brokers.split(',').map((b) => b.trim()).filter((b) => b !== '');
    return { brokers, started: false, stop: async () => {} };
  }
  // The script checks for Java only when it downloads the jars; with a warm cache a missing Java
  // would surface as a shell error in the middle of start-up.
  if (!onPath('java', env)) {
    throw new DemoError(
      'Java 17+ is needed to run the local Kafka broker, and `java` is not on PATH. Install a JDK, ' +
        'or set KAFKA_BROKERS=host:port to use a running cluster.',
    );
  }
  const outcome = await runScript('start', env);
  if (outcome.code !== 0 || (outcome.stdout !== 'started' && outcome.stdout !== 'reused')) {
    throw new DemoError(
      `the local Kafka broker did not start (scripts/kafka.sh start exited with ${outcome.code}; its reason is ` +
        'printed above: Maven and Java 17+ are needed on first use). Set KAFKA_BROKERS=host:port to use a running cluster.',
    );
  }
  const started = outcome.stdout === 'started';
  return {
    brokers: [`127.0.0.1:${env.KAFKA_PORT ?? '9092'}`],
    started,
    async stop() {
      if (!started) return;
      const stopped = await runScript('stop', env);
      if (stopped.code !== 0) throw new DemoError(`scripts/kafka.sh stop exited with ${stopped.code}`);
    },
  };
}

/** Runs the script with its progress on our stderr; resolves with its exit code and trimmed stdout. */
function runScript(command: 'start' | 'stop', env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    // Detached: a Ctrl-C in the terminal must not kill the script half-way through start-up,
    // since the demo then could not tell whether a broker was left running; it waits instead.
    const child = spawn('bash', [SCRIPT, command], { env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', (err) => reject(new DemoError(`cannot run scripts/kafka.sh: ${err.message}`, { cause: err })));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout: stdout.trim() }));
  });
}

/** True when an executable named `name` is in one of PATH's folders. */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
