/** `target-profile-sink replay-dead-letters`: sends dead letters back to their source topics. */
import type { Command } from 'commander';
import { logLevelOption } from '../log-level.js';
import { type ReplayDeadLettersOptions, runReplayDeadLetters } from '../../apps/replay/replay-command.js';

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the `replay-dead-letters` subcommand. */
export function registerReplayDeadLetters(program: Command): void {
  program
    .command('replay-dead-letters')
    .description('send dead letters back to their source topics, once the cause of their failure is fixed')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--source-topic <topic>', 'only letters from this source topic (repeatable)', collect, [])
    .option('--error-code <code>', 'only letters with this tps.error.code, e.g. TARGET_REJECTED (repeatable)', collect, [])
    .option('--dry-run', 'report what would be replayed; produce and commit nothing')
    .option('--include-superseded', 'replay letters whole, even attributes that later events of the same profile already set')
    .addOption(logLevelOption('info'))
    .action(async (opts: ReplayDeadLettersOptions) => {
      process.exitCode = await runReplayDeadLetters(opts);
    });
}
