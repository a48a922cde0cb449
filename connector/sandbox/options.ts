/** What a sandbox can be started with: the `simulate-target` flags plus test-only fault knobs. */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { mergeFaults, NO_FAULTS, type FaultSettings } from './faults.js';

export interface SandboxOptions extends Partial<FaultSettings> {
  /** Interface to listen on; 127.0.0.1 unless given. */
  host?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  /** The client code accepted in `/m2/<clientCode>/...` besides the literal `client`; `acme` unless given. */
  clientCode?: string;
  /** Create unknown profiles on update instead of ignoring the update as Target does. */
  createMissing?: boolean;
  /** Updates allowed per rolling window; unlimited unless given. */
  quota?: number;
  /** Rolling quota window; 24 hours unless given. */
  quotaWindowMs?: number;
  /** Seed of the fault draws, for reproducible runs; random unless given. */
  seed?: number;
  /** Keep every update for `/_sandbox/updates`; false keeps final profiles and counters only. */
  recordUpdates?: boolean;
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
}

/** Applies defaults; throws ConfigError listing every invalid fault or quota setting. */
export function resolveSandboxOptions(options: SandboxOptions): SandboxSettings {
  const faultChange = Object.fromEntries(
    (Object.keys(NO_FAULTS) as (keyof FaultSettings)[])
      .filter((key) => options[key] !== undefined)
      .map((key) => [key, options[key]]),
  );
  const merged = mergeFaults(NO_FAULTS, faultChange);
  const problems = merged.ok ? [] : merged.problems;
  if (options.quota !== undefined && !(Number.isInteger(options.quota) && options.quota > 0)) {
    problems.push('quota must be a positive integer');
  }
  if (options.quotaWindowMs !== undefined && !(options.quotaWindowMs > 0)) problems.push('quotaWindowMs must be positive');
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
  };
}
