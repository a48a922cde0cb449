import type { IHeaders, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay } from '../dispatch/backoff.js';
import { DeadLetterError, describeError } from '../errors.js';
import { deadLetterHeaders, type DeadLetterReason } from './headers.js';

/** An event that could not be delivered, with its original bytes. */
export interface DeadLetter extends DeadLetterReason {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/**
 * Writes dead letters to the dead-letter topic and resolves only once Kafka acknowledged the
 * write (acks=all), retrying for as long as the writer runs: the source offset may only be
 * committed after that, or the event would be lost.
 */
export class DeadLetterWriter {
  private stopped = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  /** Writes one dead letter; rejects only when the writer is stopped before the write succeeded. */
  async write(letter: DeadLetter): Promise<void> {
    const message = { key: letter.key, value: letter.value, headers: deadLetterHeaders(letter.headers, letter) };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: [message] });
        return;
      } catch (cause) {
        if (this.stopped) throw new DeadLetterError(`dead letter for ${letter.topic}[${letter.partition}]@${letter.offset} not written`, { cause });
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 10_000 }, Math.random);
        this.logger.warn({ err: describeError(cause), attempt, delayMs: delay }, 'dead-letter write failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Makes pending and future retries give up (their offsets stay uncommitted). */
  stop(): void {
    this.stopped = true;
  }
}
