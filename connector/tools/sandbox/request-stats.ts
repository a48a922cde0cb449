/**
 * Request counters of the sandbox's endpoints: the update endpoint (including how many requests
 * per profile were in flight at once) and the bulk batchUpdate / batchStatus endpoints.
 */

export interface UpdateEndpointStats {
  /** Update-endpoint requests answered or dropped. */
  requests: number;
  /** Answers by HTTP status code. */
  byStatus: Record<string, number>;
  /** Connections destroyed without a reply (reset fault). */
  resets: number;
  /** Requests deliberately never answered (hang fault). */
  hangs: number;
  /** Accepted updates; `applied` wrote a profile, `ignored` targeted an unknown one. */
  updates: number;
  applied: number;
  ignored: number;
  profiles: number;
  /** Update requests currently in flight. */
  inFlight: number;
  maxInFlight: number;
  /** Most update requests for one identity ever in flight at the same time. */
  maxConcurrentPerProfile: number;
}

/** Tallies outcomes and in-flight requests of the update endpoint. */
export class RequestStats {
  private byStatus = new Map<number, number>();
  private resets = 0;
  private hangs = 0;
  private applied = 0;
  private ignored = 0;
  private readonly inFlightByProfile = new Map<string, number>();
  private inFlight = 0;
  private maxInFlight = 0;
  private maxPerProfile = 0;

  /** Counts one answered request. */
  answered(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  /** Counts one accepted update. */
  accepted(applied: boolean): void {
    if (applied) this.applied++;
    else this.ignored++;
  }

  /** Counts one request dropped by a reset or hang fault. */
  dropped(how: 'reset' | 'hang'): void {
    if (how === 'reset') this.resets++;
    else this.hangs++;
  }

  /** Marks a request for `profileKey` as in flight; call the returned function exactly once when it ends. */
  enter(profileKey: string): () => void {
    const count = (this.inFlightByProfile.get(profileKey) ?? 0) + 1;
    this.inFlightByProfile.set(profileKey, count);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.maxPerProfile = Math.max(this.maxPerProfile, count);
    return () => {
      const left = (this.inFlightByProfile.get(profileKey) ?? 1) - 1;
      if (left === 0) this.inFlightByProfile.delete(profileKey);
      else this.inFlightByProfile.set(profileKey, left);
      this.inFlight--;
    };
  }

  /** A snapshot, completed with the profile count owned by the profile store. */
  snapshot(profiles: number): UpdateEndpointStats {
    let requests = this.resets + this.hangs;
    for (const n of this.byStatus.values()) requests += n;
    return {
      requests,
      byStatus: Object.fromEntries([...this.byStatus].map(([status, n]) => [String(status), n])),
      resets: this.resets,
      hangs: this.hangs,
      updates: this.applied + this.ignored,
      applied: this.applied,
      ignored: this.ignored,
      profiles,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      maxConcurrentPerProfile: this.maxPerProfile,
    };
  }

  /** Zeroes the counters; requests still in flight stay tracked so their end is not miscounted. */
  clear(): void {
    this.byStatus = new Map();
    this.resets = 0;
    this.hangs = 0;
    this.applied = 0;
    this.ignored = 0;
    this.maxInFlight = this.inFlight;
    this.maxPerProfile = Math.max(0, ...this.inFlightByProfile.values());
  }
}

export interface BulkEndpointStats {
  /** batchUpdate requests answered or dropped. */
  bulkRequests: number;
  /** batchUpdate answers by HTTP status code. */
  bulkByStatus: Record<string, number>;
  /** batchUpdate connections reset or never answered (faults). */
  bulkResets: number;
  bulkHangs: number;
  /** batchStatus requests answered. */
  bulkStatusPolls: number;
  /** batchUpdate and batchStatus calls answered 503 for exceeding the calls a minute. */
  bulkCallsRefused: number;
}

/** Tallies outcomes of the batchUpdate and batchStatus endpoints. */
export class BulkRequestStats {
  private byStatus = new Map<number, number>();
  private resets = 0;
  private hangs = 0;
  private polls = 0;
  private callsRefused = 0;

  /** Counts one answered batchUpdate request. */
  answered(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  /** Counts one batchUpdate request dropped by a reset or hang fault. */
  dropped(how: 'reset' | 'hang'): void {
    if (how === 'reset') this.resets++;
    else this.hangs++;
  }

  /** Counts one answered batchStatus request. */
  polled(): void {
    this.polls++;
  }

  /** Counts one batchUpdate or batchStatus call refused for the calls a minute. */
  callRefused(): void {
    this.callsRefused++;
  }

  /** A snapshot of the counters. */
  snapshot(): BulkEndpointStats {
    let requests = this.resets + this.hangs;
    for (const n of this.byStatus.values()) requests += n;
    return {
      bulkRequests: requests,
      bulkByStatus: Object.fromEntries([...this.byStatus].map(([status, n]) => [String(status), n])),
      bulkResets: this.resets,
      bulkHangs: this.hangs,
      bulkStatusPolls: this.polls,
      bulkCallsRefused: this.callsRefused,
    };
  }

  /** Zeroes the counters. */
  clear(): void {
    this.byStatus = new Map();
    this.resets = 0;
    this.hangs = 0;
    this.polls = 0;
    this.callsRefused = 0;
  }
}

export interface DeliveryEndpointStats {
  /** Delivery API calls answered or dropped. */
  deliveryRequests: number;
  /** Delivery answers by HTTP status code. */
  deliveryByStatus: Record<string, number>;
  /** Delivery connections reset or never answered (faults). */
  deliveryResets: number;
  deliveryHangs: number;
  /** Most Delivery calls of one session ever in flight at the same time (Target allows 100). */
  maxConcurrentPerSession: number;
}

/** Tallies outcomes and in-flight calls per session of the Delivery endpoint. */
export class DeliveryRequestStats {
  private byStatus = new Map<number, number>();
  private resets = 0;
  private hangs = 0;
  private readonly inFlightBySession = new Map<string, number>();
  private maxPerSession = 0;

  /** Counts one answered call. */
  answered(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  /** Counts one call dropped by a reset or hang fault. */
  dropped(how: 'reset' | 'hang'): void {
    if (how === 'reset') this.resets++;
    else this.hangs++;
  }

  /** Calls of `sessionId` in flight now. */
  inFlight(sessionId: string): number {
    return this.inFlightBySession.get(sessionId) ?? 0;
  }

  /** Marks a call of `sessionId` as in flight; call the returned function exactly once when it ends. */
  enter(sessionId: string): () => void {
    const count = this.inFlight(sessionId) + 1;
    this.inFlightBySession.set(sessionId, count);
    this.maxPerSession = Math.max(this.maxPerSession, count);
    return () => {
      const left = this.inFlight(sessionId) - 1;
      if (left <= 0) this.inFlightBySession.delete(sessionId);
      else this.inFlightBySession.set(sessionId, left);
    };
  }

  /** A snapshot of the counters. */
  snapshot(): DeliveryEndpointStats {
    let requests = this.resets + this.hangs;
    for (const n of this.byStatus.values()) requests += n;
    return {
      deliveryRequests: requests,
      deliveryByStatus: Object.fromEntries([...this.byStatus].map(([status, n]) => [String(status), n])),
      deliveryResets: this.resets,
      deliveryHangs: this.hangs,
      maxConcurrentPerSession: this.maxPerSession,
    };
  }

  /** Zeroes the counters; calls still in flight stay tracked so their end is not miscounted. */
  clear(): void {
    this.byStatus = new Map();
    this.resets = 0;
    this.hangs = 0;
    this.maxPerSession = Math.max(0, ...this.inFlightBySession.values());
  }
}
