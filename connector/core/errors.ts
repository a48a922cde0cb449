/**
 * One error family for the whole connector. Every error carries a stable `code` and a
 * `retryable` flag; the dispatcher and the source decide from the flag, never from message text.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'MAPPING_INVALID'
  | 'DECODE_FAILED'
  | 'UNMAPPABLE_EVENT'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_REJECTED'
  | 'TARGET_RETRYABLE'
  | 'TARGET_REJECTED'
  | 'DEAD_LETTER_FAILED'
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_TOPIC_MISSING'
  | 'KAFKA_REFUSED'
  | 'DEMO_FAILED'
  | 'OUTAGE_BUDGET_EXHAUSTED'
  | 'RECORD_UNDELIVERABLE'
  | 'BULK_ROW_FAILED'
  | 'QUOTA_STORE_UNAVAILABLE'
  | 'INTERRUPTED';

export interface ConnectorErrorOptions {
  cause?: unknown;
  /** For a retryable error: the peer asked not to be called again sooner (e.g. Retry-After). */
  retryAfterMs?: number;
}

/** Base class of every error the connector raises on purpose. */
export class ConnectorError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** The earliest a retry makes sense, when the peer said so; retry policies use it as a floor. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, retryable: boolean, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** One problem found in a config or mapping file, with its position when known. */
export interface SourceProblem {
  file: string;
  line?: number;
  column?: number;
  /** JSON-pointer-like path of the offending field, e.g. `mappings[0].attributes.email`. */
  field?: string;
  message: string;
}

/** Formats a problem as `file:line:column field: message`. */
export function formatProblem(p: SourceProblem): string {
  const pos = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return p.field ? `${pos} ${p.field}: ${p.message}` : `${pos} ${p.message}`;
}

/** A config file that cannot be used; lists every problem at once. */
export class ConfigError extends ConnectorError {
  readonly problems: SourceProblem[];
  constructor(problems: SourceProblem[]) {
    super('CONFIG_INVALID', problems.map(formatProblem).join('\n'), false);
    this.problems = problems;
  }
}

/** A mapping file that cannot be compiled; lists every problem at once. */
export class MappingError extends ConnectorError {
  readonly problems: SourceProblem[];
  constructor(problems: SourceProblem[]) {
    super('MAPPING_INVALID', problems.map(formatProblem).join('\n'), false);
    this.problems = problems;
  }
}

/** Where an event came from; carried by event-level errors for dead-letter headers. */
export interface EventOrigin {
  topic: string;
  partition?: number;
  offset?: string;
}

function describeOrigin(o: EventOrigin): string {
  return o.partition === undefined ? o.topic : `${o.topic}[${o.partition}]@${o.offset ?? '?'}`;
}

/** An event whose bytes cannot be decoded; permanent, goes to the dead-letter topic. */
export class DecodeError extends ConnectorError {
  readonly origin: EventOrigin;
  constructor(origin: EventOrigin, reason: string, options: ConnectorErrorOptions = {}) {
    super('DECODE_FAILED', `cannot decode ${describeOrigin(origin)}: ${reason}`, false, options);
    this.origin = origin;
  }
}

/** A decoded event the mapping cannot turn into an update (no identity, invalid identity...). */
export class UnmappableEventError extends ConnectorError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('UNMAPPABLE_EVENT', message, false, options);
  }
}

/** The schema registry could not be reached or answered 5xx: try again later. */
export class RegistryUnavailableError extends ConnectorError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('REGISTRY_UNAVAILABLE', message, true, options);
  }
}

/** The schema registry answered that the schema does not exist (4xx): permanent. */
export class RegistryRejectedError extends ConnectorError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('REGISTRY_REJECTED', message, false, options);
  }
}

/**
 * A reply that says the connector's own settings are wrong (the path does not exist, access is
 * refused) rather than that the endpoint is down: what to tell the operator to check.
 */
export interface Misconfiguration {
  status: number;
  /** The URL asked, without user info or query: no secret, no profile data. */
  url: string;
  /** What the reply means, in the operator's terms. */
  reason: string;
  /** The config keys to check. */
  keys: readonly string[];
}

/** A failed call to Target. `retryable` follows the API's rules; `retryAfterMs` honours Retry-After. */
export class TargetError extends ConnectorError {
  readonly status: number | undefined;
  /** Set when the reply points at the connector's settings rather than at an outage. */
  readonly misconfiguration: Misconfiguration | undefined;
  constructor(
    message: string,
    retryable: boolean,
    details: { status?: number; retryAfterMs?: number; cause?: unknown; misconfiguration?: Misconfiguration } = {},
  ) {
    super(retryable ? 'TARGET_RETRYABLE' : 'TARGET_REJECTED', message, retryable, { cause: details.cause, retryAfterMs: details.retryAfterMs });
    this.status = details.status;
    this.misconfiguration = details.misconfiguration;
  }
}

/** The misconfiguration an error reports, if it is a Target reply that points at the settings. */
export function misconfigurationOf(error: unknown): Misconfiguration | undefined {
  return error instanceof TargetError ? error.misconfiguration : undefined;
}

/**
 * An endpoint stayed unreachable for longer than the configured outage budget: the run ends and
 * nothing is dead-lettered. Retryable: a later run may find the endpoint back.
 */
export class OutageBudgetError extends ConnectorError {
  constructor(message: string) {
    super('OUTAGE_BUDGET_EXHAUSTED', message, true);
  }
}

/** Writing to the dead-letter topic failed; retryable because Kafka may come back. */
export class DeadLetterError extends ConnectorError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('DEAD_LETTER_FAILED', message, true, options);
  }
}

/** Normalises anything thrown into a ConnectorError-like view for logs and headers. */
export function describeError(err: unknown): { name: string; code: string; message: string; retryable: boolean } {
  if (err instanceof ConnectorError) {
    return { name: err.name, code: err.code, message: err.message, retryable: err.retryable };
  }
  if (err instanceof Error) return { name: err.name, code: 'UNEXPECTED', message: err.message, retryable: false };
  return { name: 'Error', code: 'UNEXPECTED', message: String(err), retryable: false };
}

/** A profile's bulk row that kept failing (status `error`, or still `pending` past the status timeout) until its attempts ran out. */
export class BulkRowError extends ConnectorError {
  constructor(
    message: string,
    /** The batch that last carried the row, as Target named it (or the connector, before Target did). */
    readonly batchId: string,
    /** What Target last reported for the row: `error`, `pending`, or `refused` when the whole batch was. */
    readonly rowStatus: string,
  ) {
    super('BULK_ROW_FAILED', message, false);
  }
}

/** The shared quota store (Redis) did not answer; a replica keeps to its own share meanwhile. */
export class QuotaStoreUnavailableError extends ConnectorError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('QUOTA_STORE_UNAVAILABLE', message, true, options);
  }
}
