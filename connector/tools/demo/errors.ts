/** Why a demo run could not finish; the CLI prints the message as it is, so it speaks to the user. */
import { ConnectorError } from '../../core/errors.js';

/** A demo step failed in a way the user can act on (missing Java, Kafka not starting, a stalled run). */
export class DemoError extends ConnectorError {
  constructor(message: string, options?: { cause?: unknown }, code: 'DEMO_FAILED' | 'INTERRUPTED' = 'DEMO_FAILED') {
    super(code, message, false, options);
  }
}

/** The run was interrupted (Ctrl-C or SIGTERM); what it started has been stopped. */
export class DemoInterruptedError extends DemoError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, undefined, 'INTERRUPTED');
  }
}
