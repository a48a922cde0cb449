/** `target-profile-sink init`: scaffolds a mapping and its first test case from an Avro schema (a file or the registry's). */
import { InvalidArgumentError, type Command } from 'commander';
import { logLevelOption } from '../log-level.js';
import { runInit, type InitOptions } from '../../apps/init/init.js';

function seed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('an integer');
  return n;
}

/** Adds the `init` subcommand. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('scaffold mapping.yaml (every schema path listed, identity guessed) and mapping.test.yaml (a first case) from an Avro schema')
    .option('--schema <file.avsc>', "the topic's Avro schema")
    .requiredOption('--topic <topic>', 'the Kafka topic the mapping reads')
    .option('--config <file>', "instead of --schema: take the latest schema of --subject from this config's schema_registry, saved beside the mapping")
    .option('--subject <subject>', 'the registry subject of --config (default: <topic>-value)')
    .option('--identity <path>', 'the path of the profile id (mbox3rdPartyId); guessed from field names when absent')
    .option('--out <dir>', 'folder to write mapping.yaml and mapping.test.yaml into', '.')
    .option('--seed <n>', 'seed of the sample event of the first test case', seed, 1)
    .option('--force', 'overwrite existing files')
    .addOption(logLevelOption('warn'))
    .action(async (options: InitOptions, command: Command) => {
      if ((options.schema === undefined) === (options.config === undefined))
        command.error('error: give --schema F.avsc or --config F (to fetch the schema from its registry)');
      if (options.subject !== undefined && options.config === undefined) command.error('error: --subject names a subject of the registry of --config');
      process.exitCode = await runInit(options);
    });
}
