/** Fault injection settings, their validation, and the pure draw that picks a fault per request. */
import { Ajv } from 'ajv';

export interface FaultSettings {
  /** Delay before every answer on the update, batchUpdate and batchStatus endpoints. */
  latencyMs: number;
  /** Fraction of update, batchUpdate and batchStatus requests answered 503. */
  failRate: number;
  /** Fraction of update and batchUpdate requests answered 429 with `Retry-After: retryAfterSeconds`. */
  rate429: number;
  retryAfterSeconds: number;
  /** Fraction of update and batchUpdate requests whose connection is destroyed without a reply. */
  resetRate: number;
  /** Fraction of update and batchUpdate requests never answered. */
  hangRate: number;
  /** Fraction of bulk batch rows that report `error` and are not applied; drawn per row at submit. */
  bulkRowErrorRate: number;
  /** Identities (thirdPartyId or pcId values) whose bulk rows always report `error` and are not applied. */
  bulkErrorIds: string[];
  /** Identities whose single updates and Delivery calls are refused for good (HTTP 400): a request that is its event's own fault. */
  rejectIds: string[];
  /**
   * The endpoints the request faults (failRate, rate429, resetRate, hangRate) apply to: `update`
   * (single updates), `bulk` (batchUpdate and batchStatus), `delivery` (the Delivery API). All by
   * default; `["delivery"]` takes down only the Delivery door.
   */
  faultScope: FaultEndpoint[];
}

/** An endpoint family fault injection can be limited to. */
export type FaultEndpoint = 'update' | 'bulk' | 'delivery';

export const FAULT_ENDPOINTS: readonly FaultEndpoint[] = ['update', 'bulk', 'delivery'];

export const NO_FAULTS: FaultSettings = {
  latencyMs: 0,
  failRate: 0,
  rate429: 0,
  retryAfterSeconds: 1,
  resetRate: 0,
  hangRate: 0,
  bulkRowErrorRate: 0,
  bulkErrorIds: [],
  rejectIds: [],
  faultScope: [...FAULT_ENDPOINTS],
};

export type FaultOutcome = 'reset' | 'hang' | 'unavailable' | 'throttled' | 'none';

const rate = { type: 'number', minimum: 0, maximum: 1 };
const faultSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    latencyMs: { type: 'number', minimum: 0 },
    failRate: rate,
    rate429: rate,
    retryAfterSeconds: { type: 'integer', minimum: 0 },
    resetRate: rate,
    hangRate: rate,
    bulkRowErrorRate: rate,
    bulkErrorIds: { type: 'array', items: { type: 'string' } },
    rejectIds: { type: 'array', items: { type: 'string' } },
    faultScope: { type: 'array', items: { enum: FAULT_ENDPOINTS }, uniqueItems: true },
  },
};
const validatePartial = new Ajv({ allErrors: true }).compile<Partial<FaultSettings>>(faultSchema);

/**
 * Merges `change` into `current`, or lists why it cannot be: wrong types, rates outside [0, 1],
 * or request-fault rates adding up to more than 1 (each request suffers at most one fault; the
 * bulk row error rate is drawn separately, per row).
 */
export function mergeFaults(current: FaultSettings, change: unknown): { ok: true; settings: FaultSettings } | { ok: false; problems: string[] } {
  if (!validatePartial(change)) {
    const problems = (validatePartial.errors ?? []).map((e) => `${e.instancePath || 'faults'} ${e.message ?? 'is invalid'}`);
    return { ok: false, problems };
  }
  const settings = { ...current, ...change };
  const total = settings.failRate + settings.rate429 + settings.resetRate + settings.hangRate;
  if (total > 1) {
    return { ok: false, problems: [`failRate + rate429 + resetRate + hangRate must not exceed 1 (got ${total})`] };
  }
  return { ok: true, settings };
}

/** The fault drawn for a request to `endpoint`, or 'none' when the settings' faultScope leaves it out. */
export function scopedFault(settings: FaultSettings, endpoint: FaultEndpoint, u: number): FaultOutcome {
  return settings.faultScope.includes(endpoint) ? drawFault(settings, u) : 'none';
}

/** Picks the fault for one request from a uniform draw `u` in [0, 1), one band per fault. */
export function drawFault(settings: FaultSettings, u: number): FaultOutcome {
  let edge = settings.resetRate;
  if (u < edge) return 'reset';
  edge += settings.hangRate;
  if (u < edge) return 'hang';
  edge += settings.failRate;
  if (u < edge) return 'unavailable';
  edge += settings.rate429;
  if (u < edge) return 'throttled';
  return 'none';
}
