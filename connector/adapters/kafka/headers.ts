/** Kafka record headers: read as text, and the reason headers a dead letter carries. */
import type { IHeaders } from 'kafkajs';
import { BulkRowError, describeError } from '../../core/errors.js';

/** Where the dead event came from and why it died. */
export interface DeadLetterReason {
  topic: string;
  partition: number;
  offset: string;
  error: unknown;
  attempts: number;
  failedAt: Date;
}

/** Header names, stable so that replay tools can rely on them. */
export const DLQ_HEADERS = {
  errorClass: 'tps.error.class',
  errorCode: 'tps.error.code',
  errorMessage: 'tps.error.message',
  sourceTopic: 'tps.source.topic',
  sourcePartition: 'tps.source.partition',
  sourceOffset: 'tps.source.offset',
  attempts: 'tps.attempts',
  failedAt: 'tps.failed.at',
  /** For a bulk row that failed: the batch that last carried it, and the status Target gave it. */
  bulkBatchId: 'tps.bulk.batch_id',
  bulkRowStatus: 'tps.bulk.row_status',
} as const;

/** The original headers plus the reason headers; an original header of the same name is replaced. */
export function deadLetterHeaders(original: IHeaders | undefined, reason: DeadLetterReason): IHeaders {
  const err = describeError(reason.error);
  return {
    ...(original ?? {}),
    [DLQ_HEADERS.errorClass]: err.name,
    [DLQ_HEADERS.errorCode]: err.code,
    [DLQ_HEADERS.errorMessage]: err.message.slice(0, 2000),
    [DLQ_HEADERS.sourceTopic]: reason.topic,
    [DLQ_HEADERS.sourcePartition]: String(reason.partition),
    [DLQ_HEADERS.sourceOffset]: reason.offset,
    [DLQ_HEADERS.attempts]: String(reason.attempts),
    [DLQ_HEADERS.failedAt]: reason.failedAt.toISOString(),
    ...(reason.error instanceof BulkRowError && {
      [DLQ_HEADERS.bulkBatchId]: reason.error.batchId,
      [DLQ_HEADERS.bulkRowStatus]: reason.error.rowStatus,
    }),
  };
}

/** A header as text; a repeated header reads as its last value, as a Map built from the record would. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}
