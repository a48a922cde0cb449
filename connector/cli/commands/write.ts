/** `target-profile-sink write`: Airbyte destination mode. */
import type { Command } from 'commander';
import { runWrite, type WriteOptions } from '../../apps/write/write.js';
import { logLevelOption } from '../log-level.js';

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
