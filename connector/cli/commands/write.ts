/**
 * `target-profile-sink write`: Airbyte destination mode. RECORD messages on stdin go through the
 * mapping and the delivery engine `run` uses; each STATE is echoed once every record before it
 * has settled. Problems with single lines are LOG messages; only an unusable config, catalog,
 * mapping or schema stops the command (TRACE ERROR, non-zero exit).
 */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import type { Command } from 'commander';
import { configuredStreams } from '../../airbyte/catalog.js';
import { PROCESS_OUTPUT, reportFatal, type CommandOutput } from '../../airbyte/command-output.js';
import { writeRecords } from '../../airbyte/destination.js';
import { requireSchemas, topicSchemas } from '../../airbyte/topic-schemas.js';
import { loadConfig } from '../../config/load.js';
import type { SchemaRegistryConfig } from '../../config/types.js';
import { createRegistryClient } from '../../decode/registry.js';
import { ConfigError } from '../../errors.js';
import type { CompiledMapping } from '../../mapping/index.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import { createDeliveryEngine } from '../../run/sink.js';
import { logLevelOption } from '../log-level.js';

export interface WriteOptions {
  config: string;
  catalog: string;
  logLevel?: string;
}

/** What `write` reads and where it writes; the CLI uses stdin, stdout and stderr. */
export interface WriteIo {
  input: NodeJS.ReadableStream;
  output: CommandOutput;
  logger: Logger;
}

async function readCatalog(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, message: `cannot read the catalog: ${(err as Error).message}` }]);
  }
}

/** The catalog's streams with their Avro schemas; throws a ConnectorError naming what is wrong. */
async function streamSchemas(
  mapping: CompiledMapping,
  catalogPath: string,
  registryConfig: SchemaRegistryConfig | undefined,
): Promise<Map<string, Type>> {
  const streams = configuredStreams(await readCatalog(catalogPath), catalogPath, mapping.topics);
  const registry = registryConfig && createRegistryClient(registryConfig);
  try {
    return requireSchemas(mapping, await topicSchemas(mapping, registry, streams));
  } finally {
    await registry?.close();
  }
}

/** Runs destination mode to the end of the input; returns the exit code (0 once everything settled). */
export async function runWrite(options: WriteOptions, io: Partial<WriteIo> = {}): Promise<number> {
  const output = io.output ?? PROCESS_OUTPUT;
  const logger = io.logger ?? createLogger({ name: 'write', level: (options.logLevel ?? 'info') as 'info' });
  try {
    const config = await loadConfig(options.config);
    // An outage past delivery.outage_budget_ms fails the sync; until then it is waited out.
    const outage = new AbortController();
    const engine = await createDeliveryEngine(config, { dispatch: { outageBudgetExhausted: (error) => outage.abort(error) } });
    try {
      await writeRecords({
        signal: outage.signal,
        input: io.input ?? process.stdin,
        emit: (line) => output.out(`${line}\n`),
        mapping: engine.mapping,
        dispatcher: engine.dispatcher,
        schemas: await streamSchemas(engine.mapping, options.catalog, config.schema_registry),
        maxPending: config.delivery.max_pending,
        logger,
      });
    } finally {
      engine.dispatcher.stop();
      await engine.close();
    }
    return 0;
  } catch (err) {
    return reportFatal(err, output);
  }
}

/** Adds the `write` subcommand. */
export function registerWrite(program: Command): void {
  program
    .command('write')
    .description('Airbyte destination: deliver RECORD messages from stdin, echo each STATE once the records before it settled')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .requiredOption('--catalog <file>', 'configured catalog (JSON); its streams must be mapped topics')
    .addOption(logLevelOption('info'))
    .action(async (options: WriteOptions) => {
      process.exitCode = await runWrite(options);
    });
}
