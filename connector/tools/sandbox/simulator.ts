/**
 * Target's profile APIs without HTTP: single updates and bulk (v2) batches, with faults, quotas,
 * profiles and the update log.
 */
import { identityKey, type ProfileIdentity, type ProfileUpdate } from '../../core/profile.js';
import { seededRandom } from '../../core/seeded-random.js';
import { BULK_CALL_WINDOW_MS, DELIVERY_SESSION_BUSY_STATUS, MAX_DELIVERY_CONCURRENT_PER_SESSION } from '../../core/target-api/limits.js';
import { parseBatchFile } from './batch-file.js';
import { BulkBatches, type BatchDetail, type BatchSummary, type BulkBatchStats } from './bulk-batches.js';
import { batchStatusXml, refusedXml, submittedXml, XML_CONTENT_TYPE } from './bulk-xml.js';
import { parseDeliveryRequest, type RawDeliveryRequest } from './delivery-request.js';
import { mergeFaults, scopedFault, type FaultSettings } from './faults.js';
import type { SandboxSettings } from './options.js';
import { ProfileStore, type ProfileEntry, type StoredProfile } from './profile-store.js';
import { RollingQuota } from './quota.js';
import {
  BulkRequestStats,
  DeliveryRequestStats,
  RequestStats,
  type BulkEndpointStats,
  type DeliveryEndpointStats,
  type UpdateEndpointStats,
} from './request-stats.js';
import { UpdateLog, type LoggedUpdate, type UpdateQuery } from './update-log.js';
import { isFormEncoded, parseUpdateRequest, type RawUpdateRequest } from './update-request.js';

export const SUCCESS_BODY = 'trueRequest successfully submitted';

/** Everything `/_sandbox/stats` reports. */
export type SandboxStats = UpdateEndpointStats &
  BulkEndpointStats &
  BulkBatchStats &
  DeliveryEndpointStats & {
    /** Calls per route: single update requests, batchUpdate requests, Delivery API calls. */
    byRoute: { single: number; bulk: number; realtime: number };
  };

/** What the HTTP layer must do with one request to a simulated API endpoint. */
export type ReplyAction = { type: 'reply'; status: number; body: string; headers?: Record<string, string> } | { type: 'reset' } | { type: 'hang' };

export interface UpdateOutcome {
  /** Whose profile the request was for, when it named a valid identity. */
  identity?: ProfileIdentity;
  action: ReplyAction;
}

/** The answer to one Delivery call, and the session to count as in flight until it is answered. */
export interface DeliveryOutcome {
  /** Set when the call runs on its session (accepted, refused for its profile, or faulted); not for a 420. */
  sessionId?: string;
  action: ReplyAction;
}

/** One batchUpdate request as the HTTP layer read it. */
export interface RawBatchSubmit {
  contentType: string | undefined;
  /** Size of the whole body in bytes. */
  size: number;
  /** The body, or undefined when it was too large to keep. */
  bytes: Buffer | undefined;
  /** The absolute batchStatus URL of a batch id. */
  statusUrl: (batchId: string) => string;
}

// Status polls and row errors draw from their own generators, so how often a client polls, or how
// many rows its batches have, never shifts the fault sequence its single updates see.
const POLL_STREAM = 0x5bd1e995;
const ROW_STREAM = 0x1b873593;
const DELIVERY_STREAM = 0x27d4eb2f;
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The simulated Target account; every decision is made on arrival so arrival order is the log
 * order. Bulk batches apply lazily: every entry point first applies the batches due by now, so
 * their rows land in the log before anything that arrived after their apply time.
 */
export class TargetSimulator {
  private readonly profiles: ProfileStore;
  private readonly log: UpdateLog;
  private readonly quota: RollingQuota;
  private readonly bulkQuota: RollingQuota;
  /** batchUpdate and batchStatus calls in the last minute, against Target's limit of calls a minute. */
  private readonly bulkCalls: RollingQuota;
  private readonly counters = new RequestStats();
  private readonly bulkCounters = new BulkRequestStats();
  private readonly deliveryCounters = new DeliveryRequestStats();
  private requestSequence = 0;
  private readonly bulk: BulkBatches;
  private readonly clock: () => number;
  private random: () => number;
  private pollRandom: () => number;
  private rowRandom: () => number;
  private deliveryRandom: () => number;
  private currentFaults: FaultSettings;

  /** `onProfilesChange` is called after every change to the profiles (a state file follows them). */
  constructor(
    private readonly settings: SandboxSettings,
    onProfilesChange?: () => void,
  ) {
    this.profiles = new ProfileStore(onProfilesChange);
    this.clock = settings.clock;
    this.log = new UpdateLog(settings.recordUpdates);
    this.quota = new RollingQuota(settings.quota, settings.quotaWindowMs);
    this.bulkQuota = new RollingQuota(settings.bulkRowQuota, settings.quotaWindowMs);
    this.bulkCalls = new RollingQuota(settings.bulkCallsPerMinute, BULK_CALL_WINDOW_MS);
    this.bulk = new BulkBatches(this.profiles, this.log, settings.bulkDelayMs);
    this.random = seededRandom(settings.seed);
    this.pollRandom = seededRandom(settings.seed ^ POLL_STREAM);
    this.rowRandom = seededRandom(settings.seed ^ ROW_STREAM);
    this.deliveryRandom = seededRandom(settings.seed ^ DELIVERY_STREAM);
    this.currentFaults = settings.faults;
  }

  /** The fault settings in force. */
  get faults(): FaultSettings {
    return this.currentFaults;
  }

  /** Decides the answer to one update request: rejection, fault, quota refusal or acceptance. */
  receive(raw: RawUpdateRequest): UpdateOutcome {
    const now = this.settle();
    const parsed = parseUpdateRequest(raw);
    if (!parsed.ok) return { action: this.reply(parsed.status, parsed.message) };
    const { identity, attributes } = parsed;
    this.bulk.singleUpdateArrived(identity);
    // One draw per valid request, whatever the rates, so a seed replays the same fault sequence.
    const fault = scopedFault(this.currentFaults, 'update', this.random());
    if (fault === 'reset' || fault === 'hang') {
      this.counters.dropped(fault);
      return { identity, action: { type: fault } };
    }
    if (fault === 'unavailable') return { identity, action: this.reply(503, 'Service Unavailable') };
    if (fault === 'throttled') return { identity, action: this.throttle(this.currentFaults.retryAfterSeconds) };
    if (this.currentFaults.rejectIds.includes(identity.value)) {
      return { identity, action: this.reply(400, `update refused for ${identity.kind}=${identity.value} (sandbox rejectIds)`) };
    }
    const budget = this.quota.tryTake(now);
    if (!budget.granted) return { identity, action: this.throttle(budget.retryAfterSeconds) };
    const applied = this.profiles.apply(identity, attributes, now, this.settings.createMissing);
    this.bulk.singleUpdateAccepted(identity);
    this.log.append(identity, attributes, raw.method, applied, now);
    this.counters.accepted(applied);
    return { identity, action: this.reply(200, SUCCESS_BODY) };
  }

  /**
   * Decides the answer to one batchUpdate request: 503 past the calls a minute, refusal of the
   * file, fault, row-quota refusal, or acceptance with the batchStatus URL. Faults are drawn only
   * for valid files, as for updates.
   */
  submitBatch(raw: RawBatchSubmit): ReplyAction {
    const now = this.settle();
    const overLimit = this.bulkCallLimit(now);
    if (overLimit) {
      this.bulkCounters.answered(overLimit.status);
      return overLimit;
    }
    if (raw.size > 0 && !isFormEncoded(raw.contentType)) {
      return this.refuseBatchUpdate(415, 'the batch file must be sent as application/x-www-form-urlencoded (curl --data-binary)');
    }
    const parsed = parseBatchFile(raw, this.settings.bulkLimits);
    if (!parsed.ok) return this.refuseBatchUpdate(parsed.status, parsed.message);
    const fault = scopedFault(this.currentFaults, 'bulk', this.random());
    if (fault === 'reset' || fault === 'hang') {
      this.bulkCounters.dropped(fault);
      return { type: fault };
    }
    if (fault === 'unavailable') return this.bulkReply(503, 'Service Unavailable');
    if (fault === 'throttled') return this.bulkThrottle(this.currentFaults.retryAfterSeconds, 'Too Many Requests');

    const { file } = parsed;
    const rows = file.ids.length;
    const rowQuota = this.settings.bulkRowQuota;
    const window = `${this.settings.quotaWindowMs} ms`;
    if (rowQuota !== undefined && rows > rowQuota) {
      // Waiting would never help, so this is a permanent refusal rather than a 429.
      return this.refuseBatchUpdate(413, `batch has ${rows} rows, more than the bulk row quota of ${rowQuota} per ${window}; split it`);
    }
    const budget = this.bulkQuota.tryTake(now, rows);
    if (!budget.granted) {
      const message = `bulk row quota of ${rowQuota ?? 0} rows per ${window} would be exceeded by ${rows} rows; retry after ${budget.retryAfterSeconds} s`;
      return this.bulkThrottle(budget.retryAfterSeconds, refusedXml(message), XML_CONTENT_TYPE);
    }
    const errorIds = new Set(this.currentFaults.bulkErrorIds);
    const errorRate = this.currentFaults.bulkRowErrorRate;
    const batchId = this.bulk.submit(file, raw.size, now, (id) => {
      // One draw per row, whatever the rate, so a seed replays the same row errors.
      const u = this.rowRandom();
      return errorIds.has(id) || u < errorRate;
    });
    return this.bulkReply(200, submittedXml(raw.statusUrl(batchId)), XML_CONTENT_TYPE);
  }

  /** Decides the answer to one batchStatus poll: 503 past the calls a minute, the rows' statuses, an unknown id, or a 503 fault. */
  batchStatus(batchId: string | null): ReplyAction {
    const now = this.settle();
    const overLimit = this.bulkCallLimit(now);
    if (overLimit) {
      this.bulkCounters.polled();
      return overLimit;
    }
    if (batchId === null) return this.refuseBatchStatus(400, 'the batchId query parameter is required');
    const rows = this.bulk.rowStatuses(batchId);
    if (!rows) return this.refuseBatchStatus(404, `unknown batchId ${JSON.stringify(batchId)}`);
    this.bulkCounters.polled();
    if (this.pollRandom() < this.currentFaults.failRate && this.currentFaults.faultScope.includes('bulk'))
      return { type: 'reply', status: 503, body: 'Service Unavailable' };
    return { type: 'reply', status: 200, body: batchStatusXml(batchId, rows.ids, rows.statusOf), headers: { 'content-type': XML_CONTENT_TYPE } };
  }

  /**
   * Decides the answer to one Delivery API call: refusal of the call, 420 past the session's
   * concurrent calls, fault, refusal of the profile (rejectIds), or acceptance. Accepted profile
   * parameters apply at once, creating an unknown profile, unlike the single API.
   */
  deliver(raw: RawDeliveryRequest): DeliveryOutcome {
    const now = this.settle();
    const parsed = parseDeliveryRequest(raw, this.settings.clientCode, this.settings.deliveryToken);
    if (!parsed.ok) return { action: this.deliveryReply(parsed.status, { status: parsed.status, message: parsed.message }) };
    const { sessionId, identity, mboxes, attributes } = parsed;
    // One draw per valid call, whatever the rates, so a seed replays the same fault sequence.
    const fault = scopedFault(this.currentFaults, 'delivery', this.deliveryRandom());
    if (this.deliveryCounters.inFlight(sessionId) >= MAX_DELIVERY_CONCURRENT_PER_SESSION) {
      return {
        action: this.deliveryReply(DELIVERY_SESSION_BUSY_STATUS, {
          status: DELIVERY_SESSION_BUSY_STATUS,
          message: 'too many requests with the same session id',
        }),
      };
    }
    if (fault === 'reset' || fault === 'hang') {
      this.deliveryCounters.dropped(fault);
      return { sessionId, action: { type: fault } };
    }
    if (fault === 'unavailable') return { sessionId, action: this.deliveryReply(503, { status: 503, message: 'Service Unavailable' }) };
    if (fault === 'throttled') {
      const reply = this.deliveryReply(429, { status: 429, message: 'Too Many Requests' });
      return { sessionId, action: { ...reply, headers: { ...reply.headers, 'retry-after': String(this.currentFaults.retryAfterSeconds) } } };
    }
    if (this.currentFaults.rejectIds.includes(identity.value)) {
      return {
        sessionId,
        action: this.deliveryReply(400, { status: 400, message: `call refused for ${identity.kind}=${identity.value} (sandbox rejectIds)` }),
      };
    }
    const applied = this.profiles.apply(identity, attributes, now, true);
    this.log.append(identity, attributes, 'DELIVERY', applied, now);
    const id = identity.kind === 'mbox3rdPartyId' ? { thirdPartyId: identity.value } : { tntId: identity.value };
    return {
      sessionId,
      action: this.deliveryReply(200, {
        status: 200,
        requestId: `sandbox-${++this.requestSequence}`,
        client: this.settings.clientCode,
        id,
        edgeHost: 'mboxedge-sandbox.tt.omtrdc.net',
        execute: { mboxes: mboxes.map((name, index) => ({ index, name })) },
      }),
    };
  }

  /** Marks a Delivery call of `sessionId` as in flight until the returned function is called. */
  trackSession(sessionId: string): () => void {
    return this.deliveryCounters.enter(sessionId);
  }

  /** Answers a batchUpdate request refused before reaching the account (wrong client code or method, bad file). */
  refuseBatchUpdate(status: number, message: string): ReplyAction {
    return this.bulkReply(status, refusedXml(message), XML_CONTENT_TYPE);
  }

  /** Answers a batchStatus request refused before reaching the account. */
  refuseBatchStatus(status: number, message: string): ReplyAction {
    this.bulkCounters.polled();
    return { type: 'reply', status, body: refusedXml(message), headers: { 'content-type': XML_CONTENT_TYPE } };
  }

  /** Marks a request for `identity` as in flight until the returned function is called. */
  trackInFlight(identity: ProfileIdentity): () => void {
    return this.counters.enter(identityKey(identity));
  }

  /** The stored profile, or undefined when Target would not know it. */
  profile(identity: ProfileIdentity): StoredProfile | undefined {
    this.settle();
    return this.profiles.get(identity);
  }

  /** Creates or extends profiles, as if they existed in Target before the run. */
  seedProfiles(seeds: ProfileUpdate[]): void {
    const now = this.settle();
    for (const seed of seeds) this.profiles.seed(seed.identity, seed.attributes, now);
  }

  /** Every profile with its identity, bulk batches due by now applied. */
  profileEntries(): ProfileEntry[] {
    this.settle();
    return this.profiles.entries();
  }

  /** Starts from `entries` instead of no profiles (a state file read at start). */
  restoreProfiles(entries: Iterable<ProfileEntry>): void {
    this.profiles.restore(entries);
  }

  /** Recorded updates in arrival order, bulk rows included. */
  updates(query?: UpdateQuery): LoggedUpdate[] {
    this.settle();
    return this.log.list(query);
  }

  /** Number of accepted updates and applied bulk rows since the last reset, recorded or not. */
  get updateCount(): number {
    this.settle();
    return this.log.total;
  }

  /** Every bulk batch since the last reset. */
  batches(): BatchSummary[] {
    this.settle();
    return this.bulk.summaries();
  }

  /** One bulk batch with its rows' statuses, or undefined for an unknown id. */
  batch(id: string): BatchDetail | undefined {
    this.settle();
    return this.bulk.detail(id);
  }

  /** Counters of every endpoint and of the bulk batches. */
  stats(): SandboxStats {
    this.settle();
    const single = this.counters.snapshot(this.profiles.size);
    const bulk = this.bulkCounters.snapshot();
    const delivery = this.deliveryCounters.snapshot();
    return {
      ...single,
      ...bulk,
      ...this.bulk.stats(),
      ...delivery,
      byRoute: { single: single.requests, bulk: bulk.bulkRequests, realtime: delivery.deliveryRequests },
    };
  }

  /** Applies a partial fault change, or returns why it is invalid (and changes nothing). */
  setFaults(change: unknown): string[] {
    const merged = mergeFaults(this.currentFaults, change);
    if (!merged.ok) return merged.problems;
    this.currentFaults = merged.settings;
    return [];
  }

  /** Back to the start: no profiles, updates or batches, zero counters, fresh quotas, initial faults and seed. */
  reset(): void {
    this.profiles.clear();
    this.log.clear();
    this.quota.clear();
    this.bulkQuota.clear();
    this.bulkCalls.clear();
    this.counters.clear();
    this.bulkCounters.clear();
    this.deliveryCounters.clear();
    this.requestSequence = 0;
    this.bulk.clear();
    this.random = seededRandom(this.settings.seed);
    this.pollRandom = seededRandom(this.settings.seed ^ POLL_STREAM);
    this.rowRandom = seededRandom(this.settings.seed ^ ROW_STREAM);
    this.deliveryRandom = seededRandom(this.settings.seed ^ DELIVERY_STREAM);
    this.currentFaults = this.settings.faults;
  }

  /** Answers an update-path request refused before reaching the account (wrong client code or method). */
  refuse(status: number, message: string): ReplyAction {
    return this.reply(status, message);
  }

  /** Applies the bulk batches due by now and returns now. */
  private settle(): number {
    const now = this.clock();
    this.bulk.settle(now);
    return now;
  }

  private throttle(retryAfterSeconds: number): ReplyAction {
    return { ...this.reply(429, 'Too Many Requests'), headers: { 'retry-after': String(retryAfterSeconds) } };
  }

  private reply(status: number, body: string): Extract<ReplyAction, { type: 'reply' }> {
    this.counters.answered(status);
    return { type: 'reply', status, body };
  }

  private deliveryReply(status: number, json: unknown): Extract<ReplyAction, { type: 'reply' }> {
    this.deliveryCounters.answered(status);
    return { type: 'reply', status, body: JSON.stringify(json), headers: { 'content-type': JSON_TYPE } };
  }

  private bulkThrottle(retryAfterSeconds: number, body: string, contentType?: string): ReplyAction {
    const reply = this.bulkReply(429, body, contentType);
    return { ...reply, headers: { ...reply.headers, 'retry-after': String(retryAfterSeconds) } };
  }

  private bulkReply(status: number, body: string, contentType?: string): Extract<ReplyAction, { type: 'reply' }> {
    this.bulkCounters.answered(status);
    return contentType ? { type: 'reply', status, body, headers: { 'content-type': contentType } } : { type: 'reply', status, body };
  }

  /** Takes one call from the bulk APIs' calls a minute: undefined when it fits, else Target's 503 (counted as refused). */
  private bulkCallLimit(now: number): Extract<ReplyAction, { type: 'reply' }> | undefined {
    const call = this.bulkCalls.tryTake(now);
    if (call.granted) return undefined;
    this.bulkCounters.callRefused();
    const message = `more than ${this.settings.bulkCallsPerMinute} bulk API calls in a minute; retry after ${call.retryAfterSeconds} s`;
    return {
      type: 'reply',
      status: 503,
      body: refusedXml(message),
      headers: { 'content-type': XML_CONTENT_TYPE, 'retry-after': String(call.retryAfterSeconds) },
    };
  }
}
