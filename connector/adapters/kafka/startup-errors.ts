/**
 * kafkajs' start-up failures in the operator's terms: which broker, which topic, which login,
 * what was tried and what to check — one line, never a stack trace. Pure, so every translation
 * is unit-tested without a broker.
 */
import type { KafkaConfig } from '../../core/config.js';
import { ConnectorError } from '../../core/errors.js';

/** What the client was told to reach, for the messages; the password is never part of it. */
export interface KafkaStartupContext {
  brokers: readonly string[];
  /** The mapped topics the consumer subscribes to. */
  topics: readonly string[];
  sasl?: { mechanism: string; username: string };
  ssl: boolean;
}

/** What start-up errors name for this config: the brokers, topics and SASL user (never the password). */
export function startupContextOf(config: KafkaConfig, topics: readonly string[]): KafkaStartupContext {
  const { brokers, sasl, ssl } = config;
  return { brokers, topics, ssl: ssl !== false, ...(sasl && { sasl: { mechanism: sasl.mechanism, username: sasl.username } }) };
}

/** A mapped topic missing on the brokers: the connector never creates topics. Not retryable (the config names it). */
export class MissingTopicsError extends ConnectorError {
  constructor(
    readonly topics: readonly string[],
    brokers: readonly string[],
  ) {
    const create = topics.map((t) => `bash scripts/kafka.sh topics --create --topic ${t}`).join('; ');
    super(
      'KAFKA_TOPIC_MISSING',
      `mapped topic(s) ${topics.join(', ')} do not exist on ${brokers.join(', ')}: the connector does not create topics; ` +
        `create them (locally: ${create}; else kafka-topics.sh --create --topic <name>) or fix the topic in the mapping`,
      false,
    );
  }
}

/** Throws MissingTopicsError unless every topic exists on the brokers. */
export async function requireTopics(admin: { listTopics(): Promise<string[]> }, topics: readonly string[], brokers: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) throw new MissingTopicsError(missing, brokers);
}

/** kafkajs' error chain, outermost first: retries wrap their last failure in `cause` (older versions in `originalError`). */
function chainOf(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && chain.length < 8;) {
    if (chain.includes(e)) break;
    chain.push(e);
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
  return chain;
}

const nameOf = (e: unknown): string => String((e as { name?: unknown } | undefined)?.name ?? '');
const messageOf = (e: unknown): string => String((e as { message?: unknown } | undefined)?.message ?? e);
const codeOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code;

/** Node's TLS failures: certificate checks and a TLS client talking to a plain listener. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO/;
/** Node's words for a TLS handshake cut short (a TLS client talking to a plain listener, a refused certificate). */
const TLS_MESSAGE = /\bTLS\b|\bSSL\b|secure/;
/** Kafka's UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE (a listener without SASL) and SASL_AUTHENTICATION_FAILED. */
const SASL_CODES = new Set([33, 34, 58]);
/** Kafka's UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition"). */
const UNKNOWN_TOPIC = 3;

/** How often kafkajs tried, when its retry wrapper says so. */
function attempts(chain: unknown[]): string {
  const retried = chain.find((e) => nameOf(e) === 'KafkaJSNumberOfRetriesExceeded') as { retryCount?: number } | undefined;
  if (retried?.retryCount === undefined) return '';
  return `; gave up after ${retried.retryCount + 1} attempts`;
}

/** A start-up failure thrown by kafkajs, as a ConnectorError whose message is the one line to print. */
export function kafkaStartupError(err: unknown, context: KafkaStartupContext): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const chain = chainOf(err);
  // The innermost error says what happened; the wrappers repeat it.
  const root = chain[chain.length - 1];
  const brokers = context.brokers.join(', ');
  const sasl = chain.find((e) => nameOf(e) === 'KafkaJSSASLAuthenticationError' || SASL_CODES.has(Number(codeOf(e))));
  if (sasl !== undefined) {
    const who = context.sasl ? `user ${context.sasl.username} (SASL ${context.sasl.mechanism.toUpperCase()})` : 'the SASL login';
    return new ConnectorError(
      'KAFKA_REFUSED',
      `Kafka at ${brokers} refused ${who}: ${messageOf(sasl)}; check kafka.sasl (mechanism, username, password) and that the listener takes SASL`,
      false,
      { cause: err },
    );
  }
  const tls = chain.find((e) => TLS_CODE.test(String(codeOf(e) ?? '')) || (context.ssl && TLS_MESSAGE.test(messageOf(e))));
  if (tls !== undefined) {
    return new ConnectorError(
      'KAFKA_REFUSED',
      `TLS with Kafka at ${brokers} failed: ${messageOf(root)}; check kafka.ssl (ca, cert, key, rejectUnauthorized) and that the brokers listen for TLS on that port`,
      false,
      { cause: err },
    );
  }
  if (chain.some((e) => codeOf(e) === UNKNOWN_TOPIC && nameOf(e) === 'KafkaJSProtocolError')) {
    return new MissingTopicsError(context.topics, context.brokers);
  }
  if (chain.some((e) => /Connection|BrokerNotFound|NoBrokerAvailable|RequestTimeout/.test(nameOf(e)))) {
    return new ConnectorError(
      'KAFKA_UNAVAILABLE',
      `cannot reach Kafka at ${brokers}: ${messageOf(root)}${attempts(chain)}; check kafka.brokers and that the brokers run`,
      true,
      { cause: err },
    );
  }
  const retriable = chain.every((e) => (e as { retriable?: unknown }).retriable !== false) || nameOf(err) === 'KafkaJSNumberOfRetriesExceeded';
  return new ConnectorError('KAFKA_UNAVAILABLE', `Kafka at ${brokers} failed at start-up: ${messageOf(root)}${attempts(chain)}`, retriable, { cause: err });
}
