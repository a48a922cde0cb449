/** Target's Single Profile Update behaviour without HTTP: faults, quota, profiles and the update log. */
import { identityKey, type ProfileIdentity, type ProfileUpdate } from '../profile.js';
import { drawFault, mergeFaults, type FaultSettings } from './faults.js';
import type { SandboxSettings } from './options.js';
import { ProfileStore, type StoredProfile } from './profile-store.js';
import { RollingQuota } from './quota.js';
import { seededRandom } from '../seeded-random.js';
import { RequestStats, type SandboxStats } from './request-stats.js';
import { UpdateLog, type LoggedUpdate, type UpdateQuery } from './update-log.js';
import { parseUpdateRequest, type RawUpdateRequest } from './update-request.js';

export const SUCCESS_BODY = 'trueRequest successfully submitted';

/** What the HTTP layer must do with one update request. */
export type UpdateAction =
  | { type: 'reply'; status: number; body: string; headers?: Record<string, string> }
  | { type: 'reset' }
  | { type: 'hang' };

export interface UpdateOutcome {
  /** Whose profile the request was for, when it named a valid identity. */
  identity?: ProfileIdentity;
  action: UpdateAction;
}

/** The simulated Target account; every decision is made on arrival so arrival order is the log order. */
export class TargetSimulator {
  private readonly profiles = new ProfileStore();
  private readonly log: UpdateLog;
  private readonly quota: RollingQuota;
  private readonly counters = new RequestStats();
  private random: () => number;
  private currentFaults: FaultSettings;

  constructor(
    private readonly settings: SandboxSettings,
    private readonly clock: () => number = Date.now,
  ) {
    this.log = new UpdateLog(settings.recordUpdates);
    this.quota = new RollingQuota(settings.quota, settings.quotaWindowMs);
    this.random = seededRandom(settings.seed);
    this.currentFaults = settings.faults;
  }

  /** The fault settings in force. */
  get faults(): FaultSettings {
    return this.currentFaults;
  }

  /** Decides the answer to one update request: rejection, fault, quota refusal or acceptance. */
  receive(raw: RawUpdateRequest): UpdateOutcome {
    const parsed = parseUpdateRequest(raw);
    if (!parsed.ok) return { action: this.reply(parsed.status, parsed.message) };
    const { identity, attributes } = parsed;
    // One draw per valid request, whatever the rates, so a seed replays the same fault sequence.
    const fault = drawFault(this.currentFaults, this.random());
    if (fault === 'reset' || fault === 'hang') {
      this.counters.dropped(fault);
      return { identity, action: { type: fault } };
    }
    if (fault === 'unavailable') return { identity, action: this.reply(503, 'Service Unavailable') };
    if (fault === 'throttled') return { identity, action: this.throttle(this.currentFaults.retryAfterSeconds) };
    const now = this.clock();
    const budget = this.quota.tryTake(now);
    if (!budget.granted) return { identity, action: this.throttle(budget.retryAfterSeconds) };
    const applied = this.profiles.apply(identity, attributes, now, this.settings.createMissing);
    this.log.append(identity, attributes, raw.method, applied, now);
    this.counters.accepted(applied);
    return { identity, action: this.reply(200, SUCCESS_BODY) };
  }

  /** Marks a request for `identity` as in flight until the returned function is called. */
  trackInFlight(identity: ProfileIdentity): () => void {
    return this.counters.enter(identityKey(identity));
  }

  /** The stored profile, or undefined when Target would not know it. */
  profile(identity: ProfileIdentity): StoredProfile | undefined {
    return this.profiles.get(identity);
  }

  /** Creates or extends profiles, as if they existed in Target before the run. */
  seedProfiles(seeds: ProfileUpdate[]): void {
    const now = this.clock();
    for (const seed of seeds) this.profiles.seed(seed.identity, seed.attributes, now);
  }

  /** Recorded updates in arrival order. */
  updates(query?: UpdateQuery): LoggedUpdate[] {
    return this.log.list(query);
  }

  /** Number of accepted updates since the last reset, recorded or not. */
  get updateCount(): number {
    return this.log.total;
  }

  /** Counters of the update endpoint. */
  stats(): SandboxStats {
    return this.counters.snapshot(this.profiles.size);
  }

  /** Applies a partial fault change, or returns why it is invalid (and changes nothing). */
  setFaults(change: unknown): string[] {
    const merged = mergeFaults(this.currentFaults, change);
    if (!merged.ok) return merged.problems;
    this.currentFaults = merged.settings;
    return [];
  }

  /** Back to the start: no profiles, no updates, zero counters, fresh quota, initial faults and seed. */
  reset(): void {
    this.profiles.clear();
    this.log.clear();
    this.quota.clear();
    this.counters.clear();
    this.random = seededRandom(this.settings.seed);
    this.currentFaults = this.settings.faults;
  }

  private throttle(retryAfterSeconds: number): UpdateAction {
    return { ...this.reply(429, 'Too Many Requests'), headers: { 'retry-after': String(retryAfterSeconds) } };
  }

  /** Answers an update-path request refused before reaching the account (wrong client code or method). */
  refuse(status: number, message: string): UpdateAction {
    return this.reply(status, message);
  }

  private reply(status: number, body: string): Extract<UpdateAction, { type: 'reply' }> {
    this.counters.answered(status);
    return { type: 'reply', status, body };
  }
}
