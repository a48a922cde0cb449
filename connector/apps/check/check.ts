/**
 * `target-profile-sink check`: one CONNECTION_STATUS message. Every probe runs (those needing a
 * failed one are reported as not checked) and every failure is named. The exit code is 0 even
 * on FAILED, the Airbyte convention, unless `--exit-code` asks for 1 (for scripts); an unreadable
 * config file is a FAILED status like any other config problem, so a caller always gets exactly
 * one protocol line. `--offline` keeps to the config and the mapping (a CI job checking a mapping
 * has no Kafka, Target or quota store) and lists the other probes as not checked.
 */
import { loadConfig } from '../../adapters/config/load.js';
import { deadLetterTopicOf, type Config } from '../../core/config.js';
import { createRegistryClient } from '../../adapters/registry/registry.js';
import { describeError } from '../../core/errors.js';
import { httpAnswers, withoutCredentials } from '../common/http-probe.js';
import { probeKafka, type KafkaProbeTimeouts } from './kafka-probes.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import { loadCheckedMapping, probeMappingSchemas } from './mapping-probe.js';
import type { SchemaEvolutionOptions } from './schema-evolution-probe.js';
import { connectionStatus, failed, passed, skipped, type ProbeResult } from '../common/probe.js';
import { probeQuotaStore } from './quota-store-probe.js';
import { probeDeliveryDoor, usesRealtimeRoute } from '../common/realtime.js';
import { probeTarget } from '../common/target-probe.js';
import { PROCESS_OUTPUT, type CommandOutput } from '../../adapters/airbyte/command-output.js';
import { connectionStatusMessage, protocolLine, type ConnectionStatusMessage } from '../../adapters/airbyte/messages.js';
import { scrubSecrets, secretValues } from '../../adapters/config/secrets.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import type { LogLevel } from '../../observe/logger.js';

export interface CheckOptions extends SchemaEvolutionOptions {
  config: string;
  logLevel?: LogLevel;
  /** Exit 1 when the status is FAILED (Airbyte expects 0 whatever the status). */
  exitCode?: boolean;
  /** Only the config and mapping probes (see CheckDependencies.offline). */
  offline?: boolean;
}

/** What `check` logs to (kafkajs chatter) and how long the Kafka probes wait; defaults suit the CLI. */
export interface CheckDependencies {
  logger?: Logger;
  kafkaTimeouts?: KafkaProbeTimeouts;
  /** The candidate schema or registry versions to hold the mapping against (CLI options). */
  evolution?: SchemaEvolutionOptions;
  /**
   * The config and mapping probes only, for a CI job that has no Kafka, Target or quota store:
   * those probes are reported as not checked. A configured registry is still asked, by the mapping
   * probe only, for the schemas it needs (topics without a reader schema, the versions compared).
   */
  offline?: boolean;
}

// HTTP probes need an answer, not a fast one; but a hanging endpoint must not stall the check.
const MAX_HTTP_PROBE_MS = 8000;
// One try: `check` asks "does it work now", retrying is for `run`.
const REGISTRY_PROBE = { attempts: 1, timeoutMs: MAX_HTTP_PROBE_MS };

/** Whether the schema registry answers HTTP at all (its subjects are the mapping probe's business). */
async function probeRegistry(url: string): Promise<ProbeResult> {
  const shown = withoutCredentials(url);
  const answer = await httpAnswers(url, MAX_HTTP_PROBE_MS);
  return answer.answered
    ? passed('schema registry', `${shown} answered HTTP ${answer.status}`)
    : failed('schema registry', `no HTTP answer from ${shown}: ${answer.reason}`);
}

/** The probes that reach Kafka, the registry on its own, Target and the quota store. */
async function probeConnections(config: Config, mapping: CompiledMapping | ProbeResult, logger: Logger, deps: CheckDependencies): Promise<ProbeResult[]> {
  const topics = 'topics' in mapping ? mapping.topics : undefined;
  const kafkaTargets = { topics, deadLetterTopic: deadLetterTopicOf(config) };
  const results = await Promise.all([
    probeKafka(config.kafka, kafkaTargets, logger, deps.kafkaTimeouts),
    config.schema_registry ? probeRegistry(config.schema_registry.url) : skipped('schema registry', 'not configured'),
    probeTarget(config.target, Math.min(config.target.timeout_ms, MAX_HTTP_PROBE_MS)),
    // The Delivery door only matters, and its (billed) call is only sent, when a mapping routes there.
    'topics' in mapping && usesRealtimeRoute(mapping) ? probeDeliveryDoor(config.target, Math.min(config.target.timeout_ms, MAX_HTTP_PROBE_MS)) : [],
    probeQuotaStore(config.delivery, MAX_HTTP_PROBE_MS),
  ]);
  return results.flat();
}

/** What `--offline` does not probe, and why, so the status never reads as if they passed. */
function offlineSkips(config: Config): ProbeResult[] {
  const notReached = (what: string) => `--offline: ${what} not reached`;
  return [
    skipped('brokers', notReached('Kafka')),
    skipped('topics', notReached('Kafka')),
    skipped('dead-letter topic', notReached('Kafka')),
    config.schema_registry
      ? skipped('schema registry', '--offline: not probed on its own; asked only for the schemas the mapping probe needs')
      : skipped('schema registry', 'not configured'),
    skipped('Target endpoint', notReached('Target')),
    skipped('quota store', notReached('the quota store')),
  ];
}

/** Runs every probe against a loaded config (with `offline`, the config and mapping ones). */
async function probeAll(config: Config, logger: Logger, deps: CheckDependencies): Promise<ProbeResult[]> {
  const registry = config.schema_registry && createRegistryClient(config.schema_registry, REGISTRY_PROBE);
  try {
    // A mapping that does not load is the failed mapping probe; the other probes still run.
    const mapping = await loadCheckedMapping(config);
    const results = await Promise.all([
      'topics' in mapping ? probeMappingSchemas(mapping, registry, deps.evolution) : mapping,
      deps.offline === true ? offlineSkips(config) : probeConnections(config, mapping, logger, deps),
    ]);
    return [passed('config', `${config.source_file} is valid`), ...results.flat()];
  } finally {
    await registry?.close();
  }
}

/** Runs `check` and returns its CONNECTION_STATUS message, with every secret of the config masked. */
export async function checkConnection(configPath: string, deps: CheckDependencies = {}): Promise<ConnectionStatusMessage> {
  let config: Config;
  try {
    config = await loadConfig(configPath);
  } catch (err) {
    // Config problems never quote secret values (config/describe.ts), so nothing to mask here.
    const { status, message } = connectionStatus([failed('config', describeError(err).message)]);
    return connectionStatusMessage(status, message);
  }
  const logger = deps.logger ?? createLogger({ name: 'check', level: 'warn' });
  const { status, message } = connectionStatus(await probeAll(config, logger, deps));
  return connectionStatusMessage(status, scrubSecrets(message, secretValues(config)));
}

/**
 * Prints the CONNECTION_STATUS line and returns the exit code: 0 whatever the status (Airbyte
 * reads the status, not the code), or 1 on FAILED when `exitCode` asks for it.
 */
export async function runCheck(options: CheckOptions, output: CommandOutput = PROCESS_OUTPUT): Promise<number> {
  const logger = createLogger({ name: 'check', level: options.logLevel ?? 'warn' });
  const { schemaFile, topic, allVersions, offline } = options;
  const message = await checkConnection(options.config, { logger, offline, evolution: { schemaFile, topic, allVersions } });
  output.out(`${protocolLine(message)}\n`);
  return options.exitCode === true && message.connectionStatus.status === 'FAILED' ? 1 : 0;
}
