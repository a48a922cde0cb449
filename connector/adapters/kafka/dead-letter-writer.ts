import type { IHeaders, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { systemClock } from '../../system/clock.js';
import { systemRandom } from '../../system/random.js';
import { DeadLetterError, describeError } from '../../core/errors.js';
import type { DeadLetterSink } from '../../core/pipeline/pipeline.js';
import { retrying, RetryPolicy } from '../../core/retry.js';
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
  private readonly stopping = new AbortController();

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly logger: Logger,
    /** Unbounded attempts: Kafka coming back is the only way forward for these offsets. */
    private readonly retry: RetryPolicy = new RetryPolicy({ initialMs: 200, maxMs: 10_000, random: systemRandom }),
  ) {}

  /** Writes one dead letter; rejects only when the writer is stopped before the write succeeded. */
  async write(letter: DeadLetter): Promise<void> {
    const message = { key: letter.key, value: letter.value, headers: deadLetterHeaders(letter.headers, letter) };
    await retrying(
      async () => {
        try {
          await this.producer.send({ topic: this.topic, acks: -1, messages: [message] });
        } catch (cause) {
          throw new DeadLetterError(`dead letter for ${letter.topic}[${letter.partition}]@${letter.offset} not written: ${describeError(cause).message}`, {
            cause,
          });
        }
      },
      this.retry,
      systemClock,
      {
        signal: this.stopping.signal,
        onRetry: (error, attempt, delayMs) => this.logger.warn({ err: describeError(error), attempt, delayMs }, 'dead-letter write failed; retrying'),
      },
    );
  }

  /** The pipeline's dead-letter port: events of any entry point, their original record given by `original`. */
  sinkFor<M>(original: (message: M) => Pick<DeadLetter, 'key' | 'value' | 'headers'>): DeadLetterSink<M> {
    return {
      write: ({ event, error, attempts, failedAt }) => {
        const { key, value, headers } = original(event.message);
        return this.write({ key, value, headers, topic: event.topic, partition: event.partition, offset: String(event.offset), error, attempts, failedAt });
      },
    };
  }

  /** Makes pending and future retries give up (their offsets stay uncommitted). */
  stop(): void {
    this.stopping.abort();
  }
}
