/** What a sandbox can be started with: the `simulate-target` flags plus test-only fault knobs. */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from '../../core/errors.js';
import { MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS, MAX_BULK_CALLS_PER_MINUTE } from '../../core/target-api/limits.js';
import type { BatchLimits } from './batch-file.js';
import { mergeFaults, NO_FAULTS, type FaultSettings } from './faults.js';

export interface SandboxOptions extends Partial<FaultSettings> {
  /** Interface to listen on; 127.0.0.1 unless given. */
  host?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  /** The client code accepted in `/m2/<clientCode>/...` besides the literal `client`; `acme` unless given. */
  clientCode?: string;
  /** Create unknown profiles on single update instead of ignoring the update as Target does (bulk v2 always creates). */
  createMissing?: boolean;
  /** Single updates allowed per rolling window; unlimited unless given. */
  quota?: number;
  /** Rolling window of both quotas; 24 hours unless given. */
  quotaWindowMs?: number;
  /** Seed of the fault draws, for reproducible runs; random unless given. */
  seed?: number;
  /** Keep every update for `/_sandbox/updates`; false keeps final profiles and counters only. */
  recordUpdates?: boolean;
  /** How long after submission a bulk batch's rows apply (`pending` until then); 2000 unless given. */
  bulkDelayMs?: number;
  /** A batch file must be smaller than this many bytes; Target's 50 MB unless given. */
  bulkMaxBytes?: number;
  /** Most rows in one batch file; Target's 500,000 unless given. */
  bulkMaxRows?: number;
  /** Bulk rows accepted per rolling window (`quotaWindowMs`); unlimited unless given. */
  bulkRowQuota?: number;
  /** batchUpdate and batchStatus calls together accepted in any rolling minute (more answer 503); Target's 50 unless given. */
  bulkCallsPerMinute?: number;
  /** Profiles are read from this file at start (when it exists) and written to it after changes and on close. */
  stateFile?: string;
  /** When set, Delivery API calls must carry `Authorization: Bearer <deliveryToken>` (else 401), as for an account that requires authentication. */
  deliveryToken?: string;
  /** Source of the current time in epoch milliseconds; `Date.now` unless given (tests step a fake through bulk delays). */
  clock?: () => number;
  logger?: Logger;
}

/** Options with every default applied and faults validated. */
export interface SandboxSettings {
  host: string;
  port: number;
  clientCode: string;
  createMissing: boolean;
  quota: number | undefined;
  quotaWindowMs: number;
  seed: number;
  recordUpdates: boolean;
  faults: FaultSettings;
  bulkDelayMs: number;
  bulkLimits: BatchLimits;
  bulkRowQuota: number | undefined;
  bulkCallsPerMinute: number;
  deliveryToken: string | undefined;
  clock: () => number;
}

const DEFAULT_BULK_DELAY_MS = 2000;

/** Applies defaults; throws ConfigError listing every invalid fault, quota or bulk setting. */
export function resolveSandboxOptions(options: SandboxOptions): SandboxSettings {
  const faultChange = Object.fromEntries(
    (Object.keys(NO_FAULTS) as (keyof FaultSettings)[]).filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
  const merged = mergeFaults(NO_FAULTS, faultChange);
  const problems = merged.ok ? [] : merged.problems;
  for (const key of ['quota', 'bulkMaxBytes', 'bulkMaxRows', 'bulkRowQuota', 'bulkCallsPerMinute'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) problems.push(`${key} must be a positive integer`);
  }
  if (options.quotaWindowMs !== undefined && !(options.quotaWindowMs > 0)) problems.push('quotaWindowMs must be positive');
  if (options.bulkDelayMs !== undefined && !(options.bulkDelayMs >= 0)) problems.push('bulkDelayMs must not be negative');
  if (!merged.ok || problems.length > 0) {
    throw new ConfigError(problems.map((message) => ({ file: 'simulate-target', message })));
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    clientCode: options.clientCode ?? 'acme',
    createMissing: options.createMissing ?? false,
    quota: options.quota,
    quotaWindowMs: options.quotaWindowMs ?? 24 * 60 * 60 * 1000,
    seed: options.seed ?? randomInt(2 ** 32),
    recordUpdates: options.recordUpdates ?? true,
    faults: merged.settings,
    bulkDelayMs: options.bulkDelayMs ?? DEFAULT_BULK_DELAY_MS,
    bulkLimits: { maxBytes: options.bulkMaxBytes ?? MAX_BATCH_FILE_BYTES, maxRows: options.bulkMaxRows ?? MAX_BATCH_ROWS },
    bulkRowQuota: options.bulkRowQuota,
    bulkCallsPerMinute: options.bulkCallsPerMinute ?? MAX_BULK_CALLS_PER_MINUTE,
    deliveryToken: options.deliveryToken,
    clock: options.clock ?? Date.now,
  };
}
