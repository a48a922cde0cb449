/**
 * kafkajs' own log lines at the level they deserve in the connector's log. kafkajs logs every
 * refused request at ERROR, even the states a consumer group passes through on a healthy day
 * (a coordinator loading or moving, a rebalance, a leader election) and every reconnection
 * attempt; the connector itself reports what matters (a start-up failure, a broker outage, a
 * crash), so kafkajs never writes an error line and its stack traces stay at debug.
 */
import { logLevel, type LogEntry } from 'kafkajs';

/** Where one kafkajs line goes. */
export interface MappedLogEntry {
  level: 'warn' | 'debug';
  message: string;
  /** The line's fields, without its stack trace unless it goes to debug. */
  fields: Record<string, unknown>;
  /** Set when the line says a broker cannot be reached: what the broker-outage tracker is fed. */
  brokerTrouble?: string;
}

/** States of a healthy group or cluster that kafkajs retries by itself. */
const TRANSIENT =
  /coordinator is loading|group is rebalancing|not the correct coordinator|coordinator is not available|not the leader|leader(ship)? (is )?not available|leader election|There is no leader|rebalanc|Restarting the consumer|member id|stale|metadata (is )?not loaded|not yet have the topic metadata/i;
/** The broker cannot be reached, or dropped the connection: an outage when it lasts. */
const UNREACHABLE =
  /Connection error|Connection timeout|Connection closed|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|Failed to connect|not connected|Request .*timed out|Broker not found|No broker available/i;

/** True when an error's text says a broker cannot be reached. */
export function isBrokerTrouble(text: string): boolean {
  return UNREACHABLE.test(text);
}

/** Where a kafkajs ERROR or WARN line goes: warn, unless the connector reports it better or kafkajs retries it. */
function levelOf(namespace: string, message: string, text: string): MappedLogEntry['level'] {
  if (UNREACHABLE.test(text) || TRANSIENT.test(text)) return 'debug';
  // A refused request is thrown to its caller, and the consumer's crash comes again as its CRASH
  // event: the connector reports both where it knows what they mean.
  if (namespace === 'Connection' && /^Response /.test(message)) return 'debug';
  if (namespace === 'Consumer' && /^Crash/.test(message)) return 'debug';
  return 'warn';
}

/** The level and fields of a kafkajs log entry in the connector's log. */
export function mapKafkaLogEntry({ level, namespace, log }: Pick<LogEntry, 'level' | 'namespace' | 'log'>): MappedLogEntry {
  const { message, stack, ...rest } = log;
  const text = `${String(message)} ${String(rest.error ?? '')}`;
  const serious = level === logLevel.ERROR || level === logLevel.WARN;
  const mapped = serious ? levelOf(namespace, String(message), text) : 'debug';
  const fields = mapped === 'debug' && stack !== undefined ? { ...rest, namespace, stack } : { ...rest, namespace };
  const brokerTrouble = serious && UNREACHABLE.test(text) ? String(rest.error ?? message) : undefined;
  return { level: mapped, message: String(message), fields, ...(brokerTrouble !== undefined && { brokerTrouble }) };
}
