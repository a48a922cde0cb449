/**
 * The `--log-level` option every long-running or protocol command shares: one list of levels,
 * checked by commander while it parses, so a typo ends with the valid levels and no stack trace.
 */
import { Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../observe/logger.js';

/** A fresh `--log-level <level>` option accepting only LOG_LEVELS, defaulting to `fallback`. */
export function logLevelOption(fallback: LogLevel): Option {
  return new Option('--log-level <level>', 'lowest level logged on stderr').choices(LOG_LEVELS).default(fallback);
}
