/**
 * `target-profile-sink discover`: one CATALOG message, a stream per mapped topic whose JSON Schema
 * is derived from the topic's Avro schema (the mapping's reader schema, else the registry's).
 */
import { catalogStream } from '../../adapters/airbyte/catalog.js';
import { PROCESS_OUTPUT, reportFatal, type CommandOutput } from '../../adapters/airbyte/command-output.js';
import { catalogMessage, protocolLine, type CatalogMessage } from '../../adapters/airbyte/messages.js';
import { requireSchemas, topicSchemas } from '../common/topic-schemas.js';
import { loadConfig } from '../../adapters/config/load.js';
import { createRegistryClient } from '../../adapters/registry/registry.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';

export interface DiscoverOptions {
  config: string;
}

/** The CATALOG of the mapping the config names; throws a ConnectorError when a topic has no schema. */
export async function discoverCatalog(configPath: string): Promise<CatalogMessage> {
  const config = await loadConfig(configPath);
  const mapping = await loadConfiguredMapping(config);
  const registry = config.schema_registry && createRegistryClient(config.schema_registry);
  try {
    const schemas = requireSchemas(mapping, await topicSchemas(mapping, registry, mapping.topics));
    return catalogMessage([...schemas].map(([topic, type]) => catalogStream(topic, type)));
  } finally {
    await registry?.close();
  }
}

/**
 * Prints the CATALOG and returns 0; when config, mapping or schemas cannot be used, prints a
 * TRACE ERROR instead (the Airbyte way to fail) and the problems on stderr (exit code: reportFatal).
 */
export async function runDiscover(options: DiscoverOptions, output: CommandOutput = PROCESS_OUTPUT): Promise<number> {
  try {
    output.out(`${protocolLine(await discoverCatalog(options.config))}\n`);
    return 0;
  } catch (err) {
    return reportFatal(err, output);
  }
}
