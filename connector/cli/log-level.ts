/**
 * The `--log-level` option every long-running or protocol command shares: one list of levels,
 * checked by commander while it parses, so a typo ends with the valid levels and no stack trace.
 */
import { Option } from 'commander';
import type { LoggerOptions } from '../observe/logger.js';

/** Every level the logger knows, most verbose first; `silent` writes nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly NonNullable<
  LoggerOptions['level']
>[];

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A fresh `--log-level <level>` option accepting only LOG_LEVELS, defaulting to `fallback`. */
export function logLevelOption(fallback: LogLevel): Option {
  return new Option('--log-level <level>', 'lowest level logged on stderr').choices(LOG_LEVELS).default(fallback);
}
