/**
 * The Kafka probes of `check`: brokers reachable, mapped topics and the dead-letter topic exist.
 * A dead broker must fail within seconds, but kafkajs retries a refused connection for ~13 s
 * with the client's default retry settings; a plain TCP connect first answers "nobody listens"
 * at once, and a deadline bounds the kafkajs part (handshake, SASL, metadata).
 */
import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../../core/config.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { failed, passed, skipped, type ProbeResult } from '../common/probe.js';

/** What the Kafka probes look for. */
export interface KafkaProbeTargets {
  /** The mapping's topics; undefined when the mapping did not load. */
  topics: readonly string[] | undefined;
  deadLetterTopic: string;
}

/** Time limits of the Kafka probes. */
export interface KafkaProbeTimeouts {
  /** Per-broker TCP connect, and the wait for kafkajs to disconnect. */
  connectMs: number;
  /** kafkajs connect and topic listing together. */
  adminMs: number;
}

// At most ~9 s in all: TCP connect, then kafkajs, then a bounded disconnect.
const DEFAULT_TIMEOUTS: KafkaProbeTimeouts = { connectMs: 3000, adminMs: 6000 };

/** Splits `host:port` or `[v6]:port` (the config schema requires the port). */
function hostAndPort(broker: string): { host: string; port: number } {
  const colon = broker.lastIndexOf(':');
  return { host: broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(broker.slice(colon + 1)) };
}

/** Resolves undefined when a TCP connection to `broker` opens, else the reason it did not. */
function tcpRefusal(broker: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const { host, port } = hostAndPort(broker);
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done(`no connection within ${timeoutMs} ms`));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** Rejects with a timeout error after `ms`, unless `work` settles first. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function topicsResult(required: readonly string[], existing: ReadonlySet<string>): ProbeResult {
  const missing = required.filter((t) => !existing.has(t));
  if (missing.length > 0) return failed('topics', `missing on the brokers: ${missing.join(', ')}`);
  return passed('topics', `${required.length} mapped topic(s) exist: ${required.join(', ')}`);
}

function deadLetterResult(topic: string, existing: ReadonlySet<string>): ProbeResult {
  if (existing.has(topic)) return passed('dead-letter topic', `${topic} exists`);
  return failed('dead-letter topic', `${topic} does not exist; create it before running (the connector does not create topics)`);
}

/** Runs the brokers, topics and dead-letter topic probes; topic probes are skipped when no broker answers. */
export async function probeKafka(
  config: KafkaConfig,
  targets: KafkaProbeTargets,
  logger: Logger,
  timeouts: KafkaProbeTimeouts = DEFAULT_TIMEOUTS,
): Promise<ProbeResult[]> {
  const unreachable = (reason: string): ProbeResult[] => [
    failed('brokers', reason),
    skipped('topics', 'brokers unreachable'),
    skipped('dead-letter topic', 'brokers unreachable'),
  ];
  const refusals = await Promise.all(config.brokers.map((b) => tcpRefusal(b, timeouts.connectMs)));
  if (refusals.every((r) => r !== undefined)) {
    return unreachable(`no broker accepts connections: ${config.brokers.map((b, i) => `${b} (${refusals[i]})`).join(', ')}`);
  }
  let existing: Set<string>;
  try {
    // Inside the try: reading the TLS files named by the config can fail too.
    const admin = createKafka(config, logger).admin();
    try {
      existing = new Set(
        await within(
          timeouts.adminMs,
          admin.connect().then(() => admin.listTopics()),
        ),
      );
    } finally {
      // After a timeout, disconnect waits out kafkajs's 30 s request timeout; the result must not.
      await within(timeouts.connectMs, admin.disconnect()).catch(() => undefined);
    }
  } catch (err) {
    return unreachable(`cannot talk to Kafka at ${config.brokers.join(', ')}: ${(err as Error).message}`);
  }
  return [
    passed('brokers', `connected to ${config.brokers.join(', ')}`),
    targets.topics ? topicsResult(targets.topics, existing) : skipped('topics', 'the mapping did not load'),
    deadLetterResult(targets.deadLetterTopic, existing),
  ];
}
