/** `target-profile-sink check`: one CONNECTION_STATUS for the config. */
import type { Command } from 'commander';
import { logLevelOption } from '../log-level.js';
import { type CheckOptions, runCheck } from '../../apps/check/check.js';

/** Adds the `check` subcommand. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('print a CONNECTION_STATUS: config, brokers, topics, registry, mapping paths, Target update path')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--exit-code', 'exit 1 when the status is FAILED (for scripts; Airbyte expects 0 whatever the status)')
    .addOption(logLevelOption('warn'))
    .action(async (options: CheckOptions) => {
      process.exitCode = await runCheck(options);
    });
}
