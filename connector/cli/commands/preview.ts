/** `target-profile-sink preview`: a dry run printing the requests sample events would produce. */
import type { Command } from 'commander';
import { runPreview, type PreviewOptions } from '../../apps/preview/preview.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `preview` subcommand. */
export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('dry run: map sample events and print the Target requests they would produce (no network but the registry)')
    .requiredOption('--config <file>', 'connector config (YAML or JSON)')
    .requiredOption('--input <file>', 'events: JSON lines {"topic": "...", "value": {...}}, or Avro with --avro')
    .option('--avro', 'the input is an Avro object container file or one raw message value')
    .option('--topic <topic>', 'topic of Avro input')
    .option('--bulk', 'print the Bulk Profile Update API batch file(s) the thirdPartyId updates would make (stdout), other lines on stderr')
    // It logs nothing of its own; accepted so that one set of flags works for every command.
    .addOption(logLevelOption('info'))
    .action(async (options: PreviewOptions) => {
      // `preview ... | head` closes stdout early; that is the reader being done, not a failure.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      process.exitCode = await runPreview(options);
    });
}
