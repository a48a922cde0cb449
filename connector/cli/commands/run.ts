/** `target-profile-sink run`: the long-running Kafka consumer. */
import type { Command } from 'commander';
import { runConnector, type RunOptions } from '../../apps/run/run.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `run` subcommand. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('consume the mapped topics and keep Target profiles current (the main job)')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--exit-when-idle', 'stop once every mapped partition is delivered and committed (backfills)')
    .addOption(logLevelOption('info'))
    .action(async (opts: RunOptions) => {
      process.exitCode = await runConnector(opts);
    });
}
