/** The connector's logger: pino on stderr, JSON for machines, pretty for people, secrets masked. */
import { destination, pino, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { REDACTED } from '../adapters/config/redact.js';
import { loadSpec, secretKeyNames } from '../adapters/config/spec.js';
import { stderrStatusLine, writableAbove } from './terminal-line.js';

export type { Logger } from 'pino';

/** Every level the logger knows, most verbose first; `silent` writes nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly (Level | 'silent')[];

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How to build a logger; every field has a default suited to the CLI. */
export interface LoggerOptions {
  /** Lowest level written; `silent` writes nothing. Default `info`. */
  level?: Level | 'silent';
  /** Human-readable lines instead of JSON. Default: when stderr is a terminal. */
  pretty?: boolean;
  /** Where lines go. Default stderr, because stdout carries Airbyte protocol messages. */
  destination?: NodeJS.WritableStream;
  /** Added to every line as `name`, e.g. the subcommand. */
  name?: string;
}

// pino's wildcards match exactly one level, so each key is listed at every depth a log object
// plausibly nests it (a config at `config.kafka.sasl.password` is four deep).
const MAX_DEPTH = 4;

/** Redaction paths: the spec's secret keys plus SASL blocks and HTTP authorization headers. */
export function redactPaths(): string[] {
  const keys = [...secretKeyNames(loadSpec().connectionSpecification), 'sasl', 'authorization', 'Authorization'];
  const paths: string[] = [];
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    for (const key of keys) paths.push('*.'.repeat(depth) + key);
  }
  return paths;
}

/** Creates the process logger; call once per command and pass it (or children of it) down. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const toTerminal = options.destination === undefined && process.stderr.isTTY === true;
  // On a terminal every line goes above stderr's status line (the progress of `run`), which is
  // erased first and redrawn after, so the two never end up on one row.
  const target = options.destination ?? (toTerminal ? writableAbove(stderrStatusLine()) : undefined);
  let stream: DestinationStream | NodeJS.WritableStream;
  if (options.pretty ?? toTerminal) {
    stream = pretty({
      destination: target ?? 2,
      colorize: toTerminal,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // Synchronous writes so the last lines before an exit are not lost (a terminal's are anyway).
      sync: true,
    });
  } else {
    stream = target ?? destination({ dest: 2, sync: true });
  }
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name !== undefined && { name: options.name }),
      redact: { paths: redactPaths(), censor: REDACTED },
    },
    stream as DestinationStream,
  );
}
