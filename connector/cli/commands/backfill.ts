/** `target-profile-sink backfill`: a backlog or an initial load through the Bulk Profile Update API, then exit. */
import { Option, type Command } from 'commander';
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
    .addOption(logLevelOption('info'))
    .action(async (options: BackfillOptions) => {
      process.exitCode = await runBackfill(options);
    });
}
