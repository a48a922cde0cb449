/** `target-profile-sink discover`: the Airbyte CATALOG of the mapped topics. */
import type { Command } from 'commander';
import { type DiscoverOptions, runDiscover } from '../../apps/discover/discover.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `discover` subcommand. */
export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .description('print the Airbyte CATALOG: one stream per mapped topic, JSON Schema from its Avro schema')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    // It logs nothing of its own; accepted so that one set of flags works for every command.
    .addOption(logLevelOption('info'))
    .action(async (options: DiscoverOptions) => {
      process.exitCode = await runDiscover(options);
    });
}
