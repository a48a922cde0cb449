/**
 * Airbyte destination mode on the event pipeline: stdin is the pipeline's source, one ordered
 * input whose RECORD lines are its events (partition 0, numbered in arrival order); STATE lines
 * are echoed once every record before them is acknowledged — the pipeline's commits of that
 * input, decided as it decides Kafka's.
 */
import { createInterface } from 'node:readline';
import type { Type } from 'avsc';
import type { Logger } from 'pino';
import { parseInputLine } from '../../adapters/airbyte/input.js';
import { logMessage, protocolLine, type LogLevel } from '../../adapters/airbyte/messages.js';
import { jsonPayloadDecoder } from '../../adapters/avro/json-values.js';
import type { AckCommit } from '../../core/acks/ack-tracker.js';
import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import { OrderedInput } from '../../core/pipeline/ordered-input.js';
import { EventPipeline, type DeadLetterSink, type EventOutcome, type UpdateDelivery } from '../../core/pipeline/pipeline.js';
import type { InboundEvent } from '../../core/pipeline/source.js';
import type { RetryPolicy } from '../../core/retry.js';

/** One RECORD as the pipeline carries it: its line, and its data as JSON bytes (the dead letter's value). */
export interface AirbyteRecord {
  line: number;
  data: Buffer;
}

/** What `writeRecords` reads from and delivers to. */
export interface DestinationOptions {
  /** Airbyte messages, one per line (stdin for the CLI). */
  input: NodeJS.ReadableStream;
  /** Prints one protocol line (no trailing newline). */
  emit(line: string): void;
  mapping: CompiledMapping;
  delivery: UpdateDelivery;
  /** Where records that fail for good go; rejecting fails the sync (no STATE after that record). */
  deadLetters: DeadLetterSink<AirbyteRecord>;
  /** Avro schema of each stream the configured catalog names; other streams are unknown. */
  schemas: ReadonlyMap<string, Type>;
  /** Records in flight at most; reading pauses beyond it. */
  maxPending: number;
  decodeRetry: RetryPolicy;
  clock: Clock;
  logger?: Logger;
  /** Aborting ends the run at once (an outage past its budget, a record that could not be kept): no STATE after that is echoed. */
  signal?: AbortSignal;
}

/** How the lines of one `write` run ended. */
export interface DestinationSummary {
  records: number;
  delivered: number;
  filtered: number;
  /** Records that could not be decoded, mapped or delivered. */
  failed: number;
  /** Lines that were not usable messages (bad JSON, not a RECORD or STATE...). */
  invalid: number;
  states: number;
}

/** The single ordered input of `write`, as the acknowledgement tracker sees it. */
const INPUT = 'airbyte';

/** A RECORD line as a pipeline event: its data is decoded with the stream's Avro schema, as `run` decodes a Kafka value. */
class RecordEvent implements InboundEvent<AirbyteRecord> {
  readonly input = INPUT;
  readonly partition = 0;
  readonly payload: Buffer;

  constructor(
    readonly topic: string,
    readonly offset: number,
    readonly message: AirbyteRecord,
  ) {
    this.payload = message.data;
  }

  header(): undefined {
    return undefined;
  }
}

/**
 * STATEs held until every record read before them is acknowledged, released in input order.
 * Positions are record numbers: a STATE read after n records needs the committed prefix to reach n.
 */
class StateGate {
  private readonly held: Array<{ after: number; state: Record<string, unknown> }> = [];
  private committed = 0;

  constructor(private readonly emit: (state: Record<string, unknown>) => void) {}

  hold(state: Record<string, unknown>, after: number): void {
    this.held.push({ after, state });
    this.release();
  }

  commit(commits: AckCommit[]): void {
    for (const c of commits) this.committed = Math.max(this.committed, Number(c.offset));
    this.release();
  }

  private release(): void {
    while (this.held.length > 0 && (this.held[0] as { after: number }).after <= this.committed) {
      this.emit((this.held.shift() as { state: Record<string, unknown> }).state);
    }
  }
}

/**
 * Reads the input to its end and resolves once every record has settled and every STATE it may
 * echo has been echoed. Memory stays bounded: at most `maxPending` records in flight, and
 * readline's async iterator pauses the input once about a thousand unread lines are buffered.
 */
export async function writeRecords(options: DestinationOptions): Promise<DestinationSummary> {
  const { emit, schemas, logger, signal } = options;
  const summary: DestinationSummary = { records: 0, delivered: 0, filtered: 0, failed: 0, invalid: 0, states: 0 };
  const log = (level: LogLevel, message: string) => emit(protocolLine(logMessage(level, message)));
  const gate = new StateGate((state) => {
    if (!signal?.aborted) emit(protocolLine(state));
  });
  const stdin = new OrderedInput<AirbyteRecord>(INPUT, (commits) => gate.commit(commits));
  const streams = [...schemas.keys()].join(', ');
  const pipeline = new EventPipeline<AirbyteRecord>({
    source: stdin,
    decoder: jsonPayloadDecoder(schemas, (stream) => `unknown stream "${stream}"; the catalog configures ${streams}`),
    mapper: options.mapping,
    delivery: options.delivery,
    deadLetters: options.deadLetters,
    // Every acknowledgement is committed at once: a STATE is echoed as soon as it may be.
    commits: { intervalMs: 0, threshold: 1 },
    maxPending: options.maxPending,
    decodeRetry: options.decodeRetry,
    clock: options.clock,
    observer: {
      // The failure is reported before the STATE it unblocks, so a reader of the output sees it first.
      // stdin cannot be read again, so the pipeline keeps every event's record to its end.
      settled: (_event, outcome, _heldMs, record) => report(summary, log, record as InboundEvent<AirbyteRecord>, outcome),
    },
  });

  await pipeline.start();
  try {
    await readLines(options, stdin, gate, summary, log);
  } catch (error) {
    // Reading ends with an AbortError when the run is aborted; the reason is what matters.
    signal?.throwIfAborted();
    throw error;
  }
  await abortable(pipeline.close(), signal);
  signal?.throwIfAborted();
  logger?.info({ summary }, 'input ended; every record settled');
  return summary;
}

/** Hands every line to the pipeline through its source (RECORD) or to the gate (STATE), or reports it (anything else). */
async function readLines(
  options: DestinationOptions,
  stdin: OrderedInput<AirbyteRecord>,
  gate: StateGate,
  summary: DestinationSummary,
  log: (level: LogLevel, message: string) => void,
): Promise<void> {
  const { signal } = options;
  let lineNumber = 0;
  for await (const line of createInterface({ input: options.input, crlfDelay: Infinity, signal })) {
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
      gate.hold(message.message, summary.records);
    } else {
      await abortable(stdin.room(), signal);
      const record = { line: lineNumber, data: Buffer.from(JSON.stringify(message.data)) };
      await stdin.push(new RecordEvent(message.stream, summary.records++, record));
    }
  }
}

/** Counts a settled record and says what became of it when that was not a delivery. */
function report(summary: DestinationSummary, log: (level: LogLevel, message: string) => void, event: InboundEvent<AirbyteRecord>, outcome: EventOutcome): void {
  const where = `line ${event.message.line} (stream ${event.topic})`;
  switch (outcome.kind) {
    case 'delivered':
      summary.delivered++;
      return;
    case 'filtered':
      summary.filtered++;
      return;
    case 'failed':
      summary.failed++;
      log('WARN', `${where}: went to the dead-letter topic: ${describeError(outcome.error).message}`);
      return;
    case 'cancelled':
      // write owns its single input for good, so nothing is ever cancelled; kept exhaustive.
      summary.failed++;
      log('ERROR', `${where}: dropped unsent`);
  }
}

/** `promise`, or a rejection with the abort reason as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
