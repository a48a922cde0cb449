/** `target-profile-sink check`: one CONNECTION_STATUS for the config. */
import { Option, type Command } from 'commander';
import { logLevelOption } from '../log-level.js';
import { type CheckOptions, runCheck } from '../../apps/check/check.js';

/** Adds the `check` subcommand. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'print a CONNECTION_STATUS: config, brokers, topics, registry, mapping paths (and what a new schema version breaks), Target update path (--offline: config and mapping only)',
    )
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--exit-code', 'exit 1 when the status is FAILED (for scripts; Airbyte expects 0 whatever the status)')
    .option('--schema-file <file>', 'a candidate Avro schema (.avsc) for --topic: report what it breaks in the mapping before it is deployed')
    .option('--topic <topic>', 'the mapped topic --schema-file is a candidate for')
    .addOption(
      new Option('--all-versions', "check every version registered under each topic's <topic>-value subject, not only the latest").conflicts('schemaFile'),
    )
    .option(
      '--offline',
      'the config and mapping checks only, for CI without Kafka or Target: brokers, topics, Target and the quota store are not reached ' +
        '(listed as not checked); a schema_registry in the config is still asked, for the schemas the mapping check needs',
    )
    .addOption(logLevelOption('warn'))
    .action(async (options: CheckOptions, command: Command) => {
      if ((options.schemaFile === undefined) !== (options.topic === undefined)) {
        command.error('error: --schema-file and --topic go together (the candidate schema and the topic it is for)');
      }
      process.exitCode = await runCheck(options);
    });
}
