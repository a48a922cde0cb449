/** Where the Airbyte commands write, and how they fail: a TRACE ERROR on stdout, the reason on stderr. */
import { ConnectorError, describeError } from '../../core/errors.js';
import { protocolLine, traceErrorMessage } from './messages.js';

/** Protocol lines go to `out` (stdout), human messages to `err` (stderr). */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export const PROCESS_OUTPUT: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Reports an error that stops a command and returns its exit code: 2 for the connector's own
 * errors (config, catalog, mapping, schemas: the user can fix them), 1 for anything unexpected.
 */
export function reportFatal(err: unknown, output: CommandOutput): number {
  const { message } = describeError(err);
  // Retryable errors (registry or Kafka down) are not the user's setup; Airbyte may retry those.
  const failureType = err instanceof ConnectorError && !err.retryable ? 'config_error' : 'system_error';
  output.out(`${protocolLine(traceErrorMessage(message, failureType))}\n`);
  output.err(`${message}\n`);
  return err instanceof ConnectorError ? 2 : 1;
}
