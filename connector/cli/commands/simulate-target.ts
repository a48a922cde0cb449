/** `simulate-target`: runs the local Target sandbox until SIGTERM or SIGINT. */
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import type { LogLevel } from '../../observe/logger.js';
import { logLevelOption } from '../log-level.js';
import { startSandbox } from '../../tools/sandbox/server.js';

interface SimulateTargetFlags {
  host: string;
  port: number;
  clientCode: string;
  createMissing?: boolean;
  latencyMs?: number;
  failRate?: number;
  rate429?: number;
  retryAfterSeconds?: number;
  resetRate?: number;
  hangRate?: number;
  quota?: number;
  quotaWindowMs?: number;
  seed?: number;
  record: boolean;
  logLevel: LogLevel;
  stateFile?: string;
  bulkDelayMs?: number;
  bulkRowErrorRate?: number;
  bulkMaxRows?: number;
  bulkMaxBytes?: number;
  bulkRowQuota?: number;
  bulkCallsPerMinute?: number;
}

/** Adds the `simulate-target` subcommand to `program`. */
export function registerSimulateTarget(program: Command): void {
  program
    .command('simulate-target')
    .description('run a local Target sandbox (Single and Bulk Profile Update APIs, profile read-back, fault injection)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks any free port', integer, 0)
    .option('--client-code <code>', 'client code accepted in /m2/<code>/profile/update', 'acme')
    .option('--create-missing', 'create unknown profiles on update (Target ignores such updates)')
    .option('--latency-ms <ms>', 'delay before every update answer', integer)
    .option('--fail-rate <fraction>', 'fraction of updates answered 503', fraction)
    .option('--rate-429 <fraction>', 'fraction of updates answered 429 with Retry-After', fraction)
    .option('--retry-after-seconds <s>', 'Retry-After sent with --rate-429 answers', integer)
    .option('--reset-rate <fraction>', 'fraction of updates whose connection is reset', fraction)
    .option('--hang-rate <fraction>', 'fraction of updates never answered', fraction)
    .option('--quota <n>', 'updates allowed per rolling window (unlimited by default)', integer)
    .option('--quota-window-ms <ms>', 'length of the rolling quota window (default 24 h)', integer)
    .option('--seed <n>', 'seed for the fault draws, to replay a run', integer)
    .option('--no-record', 'keep final profiles and counters only, not every update')
    .option('--bulk-delay-ms <ms>', 'time before a bulk batch applies; its rows report pending until then (default 2000)', integer)
    .option('--bulk-row-error-rate <fraction>', 'fraction of bulk rows that report error and are not applied', fraction)
    .option('--bulk-max-rows <n>', "most rows in one batch file (default Target's 500000)", integer)
    .option('--bulk-max-bytes <n>', "a batch file must be smaller than this (default Target's 52428800, 50 MB)", integer)
    .option('--bulk-row-quota <n>', 'bulk rows accepted per rolling --quota-window-ms (unlimited by default)', integer)
    .option('--bulk-calls-per-minute <n>', "batchUpdate and batchStatus calls accepted in any rolling minute, more answer 503 (default Target's 50)", integer)
    .option(
      '--state-file <file>',
      'keep profiles across restarts: read at start if it exists, rewritten (atomically) shortly after changes and on SIGTERM/SIGINT',
    )
    .addOption(logLevelOption('info'))
    .action(async (flags: SimulateTargetFlags, command: Command) => {
      const { record, logLevel, ...settings } = flags;
      const logger = pino({ name: 'simulate-target', level: logLevel }, pino.destination(2));
      const sandbox = await startSandbox({ ...settings, recordUpdates: record, logger }).catch((err: unknown) =>
        command.error(`simulate-target: ${err instanceof Error ? err.message : String(err)}`),
      );
      // Scripts wait for this exact line on stdout to learn the URL; logs go to stderr.
      process.stdout.write(`listening on ${sandbox.url}\n`);
      const stop = (signal: NodeJS.Signals): void => {
        logger.info({ signal }, 'stopping');
        sandbox.close().then(
          () => logger.info('stopped'),
          (err: unknown) => {
            // The last state file write failed: say so in the exit code, the profiles may be stale.
            logger.error({ err }, 'stopped, but could not write the state file');
            process.exitCode = 1;
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}

function integer(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(text);
}

function fraction(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return value;
}
