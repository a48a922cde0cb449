/** `target-profile-sink replay-dead-letters`: sends dead letters back to their source topics. */
import { loadConfig } from '../../adapters/config/load.js';
import { replayDeadLetters, type ReplaySummary } from './replay.js';
import { ConnectorError } from '../../core/errors.js';
import { createLogger } from '../../observe/logger.js';

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
