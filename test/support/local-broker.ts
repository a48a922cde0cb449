/**
 * Private brokers for the tests of scripts/kafka.sh and of the demo's local Kafka: their own
 * ports and folder (never the shared broker's), the cached jars, and a look at what is left running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { testTempDir } from './test-run.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The script under test. */
export const KAFKA_SCRIPT = join(ROOT, 'scripts/kafka.sh');

/** Where a private broker listens and keeps its files, and the environment that selects it. */
export interface PrivateBroker {
  port: number;
  controllerPort: number;
  home: string;
  pidFile: string;
  logFile: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/** Settings for a broker on two free ports in a fresh folder (removed after the file), reusing the cached jars. */
export async function privateBroker(): Promise<PrivateBroker> {
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const home = await testTempDir('kafka-home');
  const sharedHome = process.env.KAFKA_HOME_DIR ?? join(ROOT, '.cache/kafka');
  return {
    port,
    controllerPort,
    home,
    pidFile: join(home, `kafka-${port}.pid`),
    logFile: join(home, `server-${port}.log`),
    dataDir: join(home, `data-${port}`),
    env: {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_HOME_DIR: home,
      KAFKA_LIBS: process.env.KAFKA_LIBS ?? join(sharedHome, 'libs'),
      // A small JVM that starts fast: these brokers hold a few partitions and live for seconds.
      KAFKA_HEAP_OPTS: '-Xms64m -Xmx512m',
      KAFKA_JVM_PERFORMANCE_OPTS: '-XX:+UseSerialGC -XX:TieredStopAtLevel=1',
    },
  };
}

/** What one run of the script printed, and how it ended. */
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/kafka.sh with `args`; `onStderr` sees its progress as it comes. */
export async function runKafkaScript(args: string[], env: NodeJS.ProcessEnv, onStderr: (text: string) => void = () => {}): Promise<ScriptResult> {
  const child = spawn('bash', [KAFKA_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onStderr(stderr);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: stdout.trim(), stderr };
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/** Pids of the processes whose command line names a file in `home`: a broker or tool from that folder. */
export function processesUsing(home: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(`${home}/`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** Listens on 127.0.0.1:`port` until the returned server is closed. */
export async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** `count` distinct ports that were free a moment ago. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => holdPort(0)));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
