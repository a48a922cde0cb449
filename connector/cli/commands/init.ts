/** `target-profile-sink init`: scaffolds a mapping and its first test case from an Avro schema. */
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
    .requiredOption('--schema <file.avsc>', "the topic's Avro schema")
    .requiredOption('--topic <topic>', 'the Kafka topic the mapping reads')
    .option('--identity <path>', 'the path of the profile id (mbox3rdPartyId); guessed from field names when absent')
    .option('--out <dir>', 'folder to write mapping.yaml and mapping.test.yaml into', '.')
    .option('--seed <n>', 'seed of the sample event of the first test case', seed, 1)
    .option('--force', 'overwrite existing files')
    .addOption(logLevelOption('warn'))
    .action(async (options: InitOptions) => {
      process.exitCode = await runInit(options);
    });
}
