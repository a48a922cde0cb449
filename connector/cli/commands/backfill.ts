/** `target-profile-sink backfill`: a backlog or an initial load through the Bulk Profile Update API, then exit. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runBackfill, type BackfillOptions } from '../../apps/backfill/backfill.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `backfill` subcommand. */
export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description('deliver the mapped topics up to their current end through the Bulk Profile Update API v2, commit, print a summary and exit')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .addOption(
      new Option('--from <where>', "committed: from the group's committed offsets (earliest for a new group); earliest: from the start")
        .choices(['committed', 'earliest'])
        .default('committed'),
    )
    .option('--progress-every <seconds>', 'seconds between two progress log lines when stderr is not a terminal', positiveInteger, 30)
    .addOption(logLevelOption('info'))
    .action(async (options: BackfillOptions) => {
      process.exitCode = await runBackfill(options);
    });
}

function positiveInteger(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError('expected a positive integer');
  return Number(text);
}
