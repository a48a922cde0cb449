/** `target-profile-sink replay-dead-letters`: sends dead letters back to their source topics. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { replayDeadLetters, type ReplaySummary } from '../../deadletter/replay.js';
import { ConnectorError } from '../../errors.js';
import { createLogger } from '../../observe/logger.js';
import { logLevelOption } from '../log-level.js';

/** The command line options, as commander parses them. */
export interface ReplayDeadLettersOptions {
  config: string;
  sourceTopic?: string[];
  errorCode?: string[];
  dryRun?: boolean;
  includeSuperseded?: boolean;
  logLevel?: string;
}

/** Replays, prints the summary as one JSON line through `out` (stdout by default) and returns the exit code. */
export async function runReplayDeadLetters(
  options: ReplayDeadLettersOptions,
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const logger = createLogger({ name: 'replay-dead-letters', level: (options.logLevel ?? 'info') as 'info' });
  let summary: ReplaySummary;
  try {
    const config = await loadConfig(options.config);
    summary = await replayDeadLetters(
      config,
      {
        filter: { sourceTopics: options.sourceTopic ?? [], errorCodes: options.errorCode ?? [] },
        dryRun: options.dryRun === true,
        includeSuperseded: options.includeSuperseded === true,
      },
      logger,
    );
  } catch (err) {
    if (err instanceof ConnectorError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    logger.error({ err }, 'replay failed');
    return 1;
  }
  out(`${JSON.stringify(summary)}\n`);
  return 0;
}

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
