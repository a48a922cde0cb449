/** `target-profile-sink demo`: the one-command tour (local Kafka, sandbox, sample events, the connector). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DemoError, formatSummary, runDemo, DemoInterruptedError } from '../../tools/demo/index.js';
import { ConnectorError } from '../../core/errors.js';
import { createLogger, type LogLevel } from '../../observe/logger.js';
import { logLevelOption } from '../log-level.js';

interface DemoFlags {
  events: number;
  customers: number;
  logLevel: LogLevel;
}

/** Adds the `demo` subcommand. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start local Kafka and a Target sandbox, stream sample events through the connector, print a summary')
    .option('--events <n>', 'sample events to produce', positiveInteger, 5000)
    .option('--customers <n>', 'customers the events are spread over', positiveInteger, 1000)
    .addOption(logLevelOption('warn'))
    // Kept from before --log-level: scripts that pass it still work; an explicit --log-level wins.
    .addOption(new Option('--verbose', 'log progress on stderr, not only warnings (--log-level info)').implies({ logLevel: 'info' }))
    .addHelpText('after', '\nSet KAFKA_BROKERS=host:port[,host:port] to use a running cluster instead of starting one.')
    .action(async (flags: DemoFlags) => {
      process.exitCode = await demoCommand(flags);
    });
}

/** Runs the demo with Ctrl-C/SIGTERM handling; prints the summary on stdout and returns the exit code. */
async function demoCommand(flags: DemoFlags): Promise<number> {
  const logger = createLogger({ name: 'demo', level: flags.logLevel });
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupt.signal.aborted) {
      process.stderr.write('demo: second interrupt, exiting without cleanup (a local Kafka it started keeps running: npm run kafka:stop)\n');
      process.exit(130);
    }
    process.stderr.write(`demo: ${signal}, stopping what the demo started...\n`);
    interrupt.abort(new DemoInterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runDemo({
      events: flags.events,
      customers: flags.customers,
      brokers: process.env.KAFKA_BROKERS,
      logger,
      signal: interrupt.signal,
    });
    process.stdout.write(formatSummary(report));
    return 0;
  } catch (err) {
    if (err instanceof DemoInterruptedError) {
      process.stderr.write('demo: interrupted; everything it started is stopped\n');
      return 130;
    }
    // Our own errors are written for the user already; anything else deserves its stack in the log.
    if (err instanceof DemoError || err instanceof ConnectorError) process.stderr.write(`demo: ${err.message}\n`);
    else logger.error({ err }, 'demo failed');
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function positiveInteger(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError('expected a positive integer');
  return Number(text);
}
