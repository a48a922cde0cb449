/**
 * Airbyte destination mode: RECORD lines from the input go through the mapping and the delivery
 * engine, STATE lines are echoed once every record before them has settled, and every unusable
 * line or failed record is reported as a LOG message. Nothing on the input is fatal.
 */
import { createInterface } from 'node:readline';
import type { Type } from 'avsc';
import type { Logger } from 'pino';
import { deliverEvent, type EventOutcome } from '../dispatch/event-delivery.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { describeError, UnmappableEventError } from '../errors.js';
import type { CompiledMapping } from '../mapping/index.js';
import { parseInputLine } from './input.js';
import { logMessage, protocolLine, type LogLevel } from './messages.js';
import { toDecodedValue } from './record-values.js';
import { StateBarrier } from './state-barrier.js';

/** What `writeRecords` reads from and delivers to. */
export interface DestinationOptions {
  /** Airbyte messages, one per line (stdin for the CLI). */
  input: NodeJS.ReadableStream;
  /** Prints one protocol line (no trailing newline). */
  emit(line: string): void;
  mapping: CompiledMapping;
  dispatcher: Dispatcher;
  /** Avro schema of each stream the configured catalog names; other streams are unknown. */
  schemas: ReadonlyMap<string, Type>;
  /** Records in flight at most; reading pauses beyond it. */
  maxPending: number;
  logger?: Logger;
  /** Aborting ends the run at once (an outage past its budget): no STATE after that is echoed. */
  signal?: AbortSignal;
}

/** How the lines of one `write` run ended. */
export interface DestinationSummary {
  records: number;
  delivered: number;
  filtered: number;
  /** Records that fit the schema but could not be mapped or delivered. */
  failed: number;
  /** Lines that were not usable messages (bad JSON, unknown stream, not fitting the schema...). */
  invalid: number;
  states: number;
}

/**
 * Reads the input to its end and resolves once every record has settled and every STATE has been
 * echoed. Memory stays bounded: at most `maxPending` records in flight, and readline's async
 * iterator pauses the input once about a thousand unread lines are buffered behind them.
 */
export async function writeRecords(options: DestinationOptions): Promise<DestinationSummary> {
  const { emit, mapping, dispatcher, schemas, maxPending, logger } = options;
  const summary: DestinationSummary = { records: 0, delivered: 0, filtered: 0, failed: 0, invalid: 0, states: 0 };
  const barrier = new StateBarrier<Record<string, unknown>>();
  const streams = [...schemas.keys()].join(', ');
  let wake: (() => void) | undefined;

  const log = (level: LogLevel, message: string) => emit(protocolLine(logMessage(level, message)));
  const echo = (states: Record<string, unknown>[]) => {
    for (const state of states) emit(protocolLine(state));
  };
  const settled = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  options.signal?.addEventListener('abort', settled, { once: true });
  const untilSettled = () => {
    options.signal?.throwIfAborted();
    return new Promise<void>((resolve) => (wake = resolve));
  };
  const stopped = () => options.signal?.aborted === true;

  const report = (where: string, outcome: EventOutcome) => {
    switch (outcome.kind) {
      case 'delivered':
        summary.delivered++;
        return;
      case 'filtered':
        summary.filtered++;
        return;
      case 'cancelled':
        // Only a submitter passing a liveness check gets this, and write passes none; kept exhaustive.
        summary.failed++;
        log('ERROR', `${where}: dropped unsent`);
        return;
      case 'failed': {
        summary.failed++;
        const { message } = describeError(outcome.error);
        // An unmappable record is bad input, like a malformed line; a delivery failure is ours to raise.
        if (outcome.error instanceof UnmappableEventError) log('WARN', `${where}: cannot be mapped: ${message}`);
        else log('ERROR', `${where}: not delivered after ${outcome.attempts} attempt(s): ${message}`);
      }
    }
  };

  let lineNumber = 0;
  for await (const line of createInterface({ input: options.input, crlfDelay: Infinity, signal: options.signal })) {
    lineNumber++;
    const message = parseInputLine(line);
    if (!message) continue;
    const where = `line ${lineNumber}`;
    if (message.kind === 'invalid') {
      summary.invalid++;
      log('WARN', `${where}: ${message.reason}`);
    } else if (message.kind === 'other') {
      summary.invalid++;
      log('WARN', `${where}: ignored a ${message.type} message; write reads RECORD and STATE messages`);
    } else if (message.kind === 'state') {
      summary.states++;
      echo(barrier.stateReceived(message.message));
    } else {
      const type = schemas.get(message.stream);
      if (!type) {
        summary.invalid++;
        log('WARN', `${where}: unknown stream "${message.stream}"; the catalog configures ${streams}`);
        continue;
      }
      const decoded = toDecodedValue(type, message.data);
      if (!decoded.ok) {
        summary.invalid++;
        log('WARN', `${where} (stream ${message.stream}): ${decoded.reason}`);
        continue;
      }
      while (barrier.inFlight >= maxPending) await untilSettled();
      summary.records++;
      const seq = barrier.recordStarted();
      deliverEvent(mapping.mapEvent(message.stream, decoded.value), dispatcher, (outcome) => {
        // The failure is reported before the STATE it unblocks, so a reader of the output sees it first.
        report(`${where} (stream ${message.stream})`, outcome);
        const released = barrier.recordSettled(seq);
        if (!stopped()) echo(released);
        settled();
      });
    }
  }
  while (barrier.inFlight > 0) await untilSettled();
  options.signal?.throwIfAborted();
  logger?.info({ summary }, 'input ended; every record settled');
  return summary;
}
