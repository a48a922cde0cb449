/**
 * The bulk route: profiles' merged updates become rows of batch files sent to Target's Bulk
 * Profile Update API v2, and each row settles when the batch status reports it.
 *
 * - A profile's later updates fold into its row while the row's batch is still open (the lanes
 *   ask `fold`), and a batch keeps gathering past `lingerMs` while a backlog is still being read
 *   and rows keep joining it: a backlog goes in as few files as the row and byte limits allow.
 * - A row is settled only by its own status: `success` delivers it; `error`, or `pending` past
 *   `statusTimeoutMs`, sends it again in a later batch, and fails it for good (dead letter) once
 *   its attempts are spent. The lanes keep every other update of that profile behind the row.
 * - Target lets a later batch override what an earlier batch set for the same thirdPartyId, so a
 *   profile's row carries every attribute bulk sent it in this run (latest value per attribute).
 *   That memory is bounded: a profile beyond it goes by single updates; a single update (an mbox
 *   call) ends Target's override, so it ends the memory too.
 * - A submit or status poll that fails for the endpoint (5xx, timeouts, refused) goes through the
 *   bulk endpoint's outage gate: retried without limit, one probe at a time while the gate is
 *   open, never counted against the rows — and bounded by the outage budget like any endpoint.
 *   Target's 503 beyond its call limit is such a failure: waited out, never a dead letter.
 * - Every submit and status poll takes one unit of the call budget first (Target allows 50 bulk
 *   calls a minute per account), waiting while it is spent. A pending batch's status is asked
 *   after `pollIntervalMs`, then twice as long each time, up to a minute: a batch Target takes an
 *   hour with costs a few dozen polls, not one per interval.
 */
import type { Clock } from '../clock.js';
import { BulkRowError, TargetError } from '../errors.js';
import type { ProfileIdentity } from '../profile.js';
import type { RetryPolicy } from '../retry.js';
import { BatchFileBuilder, fitsAlone, type BatchFile } from '../target-api/batch-file.js';
import type { Budget } from './budget.js';
import type { GateResume, OutageGate } from './outage-gate.js';
import type { Job, LaneRef, Route, RouteHost } from './route.js';
import type { BulkStatusResult, BulkSubmitResult, UpdateResult } from './send-result.js';

/** Target's bulk endpoints, as the route needs them. */
export interface BulkApi {
  submit(file: BatchFile): Promise<BulkSubmitResult>;
  status(statusUrl: string): Promise<BulkStatusResult>;
}

/** A batch as Target last reported it (at its acceptance, every row pending); counts are the batch's own since it was accepted. */
export interface BulkBatchReport {
  name: string;
  rows: number;
  /** Rows not yet reported success or error (nor given up on as still pending). */
  pending: number;
  succeeded: number;
  failed: number;
}

/** What the route reports, for metrics and logs; every member optional. */
export interface BulkObserver {
  batchSubmitted?(rows: number, bytes: number): void;
  batchCompleted?(rows: number, ms: number): void;
  rowsReported?(status: 'success' | 'error' | 'timeout', rows: number): void;
  submitRetried?(error: unknown, delayMs: number): void;
  /** Target accepted a batch or reported its status; `nextPollInMs` is when its status is asked next, undefined once every row settled. */
  batchReported?(batch: BulkBatchReport, nextPollInMs: number | undefined): void;
  /** A batch's status poll failed for the endpoint; it is asked again in `nextPollInMs`. */
  pollDeferred?(name: string, nextPollInMs: number): void;
}

export interface BulkRouteOptions {
  api: BulkApi;
  clock: Clock;
  maxRows: number;
  maxBytes: number;
  /** Longest a batch stays open to gather rows before it is sent, unless a backlog is still being read (`readingBacklog`). */
  lingerMs: number;
  /** True while the source is still far behind the ends of its partitions: the open batch keeps gathering past `lingerMs`. */
  readingBacklog?: () => boolean;
  /** Wait before a batch's first status poll; each later poll waits twice the previous, up to POLL_BACKOFF_CAP_MS. */
  pollIntervalMs: number;
  /** A row still `pending` this long after its batch was accepted is sent again. */
  statusTimeoutMs: number;
  /** Spaces submit retries; its `maxAttempts` bounds a row's own failures (error, timeout, refusal). */
  retry: RetryPolicy;
  /** The bulk endpoint's outage gate; while open, fetching pauses. */
  gate: OutageGate;
  /** Rows per rolling window (`delivery.bulk.daily_row_quota`); unlimited when absent. `maxRows` must not exceed its limit. */
  rowQuota?: Budget;
  /** Bulk API calls, submits and status polls alike (`delivery.bulk.calls_per_minute`); unlimited when absent. */
  calls?: Budget;
  /** Profiles whose bulk-sent attributes are remembered; beyond it a profile goes by single updates. */
  rememberProfiles: number;
  observer?: BulkObserver;
}

/** Longest wait between two status polls of a batch (unless `pollIntervalMs` is longer). */
export const POLL_BACKOFF_CAP_MS = 60_000;

/** What a row of the open batch holds of its attributes: nothing, the builder has them (see Row.attributes). */
const IN_BUILDER: Record<string, string> = Object.freeze({});

interface Row<L> {
  id: string;
  /** The lane whose job the row carries: it hears the row's end, and its later updates may fold into the row while the batch is open. */
  lane: L;
  /**
   * Every attribute the row sets (what bulk sent this profile before, overridden by the new
   * update) once its batch is sent; empty while the open batch's builder holds them, so that a
   * folded row does not also keep its first update's values.
   */
  attributes: Record<string, string>;
  attempts: number;
}

interface OpenBatch<L> {
  builder: BatchFileBuilder;
  rows: Map<string, Row<L>>;
  cancelLinger: () => void;
  /** Rows added or folded in since the batch opened: a batch that stopped growing is not gathering a backlog. */
  changes: number;
}

interface SentBatch<L> {
  name: string;
  rows: Map<string, Row<L>>;
  rowCount: number;
  acceptedAt: number;
  statusUrl: string;
}

export class BulkRoute<L extends LaneRef = LaneRef> implements Route<L> {
  readonly name = 'bulk';
  /** Each profile's bulk-sent attributes as JSON: one string costs a fraction of an object per profile. */
  private readonly remembered = new Map<string, string>();
  private open: OpenBatch<L> | undefined;
  private readonly pending = new Set<SentBatch<L>>();
  private readonly timers = new Set<() => void>();
  private batches = 0;
  private stopped = false;
  private host: RouteHost<L> | undefined;

  constructor(private readonly options: BulkRouteOptions) {}

  get gate(): OutageGate {
    return this.options.gate;
  }

  /** True while the bulk endpoint is down: sending waits, fetching should pause. */
  get blocked(): boolean {
    return this.options.gate.isOpen;
  }

  attach(host: RouteHost<L>): void {
    this.host = host;
    this.options.gate.onChange(() => host.blockedChanged());
  }

  /** Queues the job as a row, settled through the host when its status reports; false when it goes by single update instead (see rowFor). */
  send(lane: L, job: Job): boolean {
    const attributes = this.rowFor(job.identity, job.attributes);
    const host = this.host;
    if (!attributes || !host) return false;
    this.enqueue({ id: job.identity.value, lane, attributes, attempts: 0 });
    return true;
  }

  /**
   * Folds a later update of the lane's profile into the row its job has in the open batch (latest
   * value per attribute): a backlog becomes one row per profile instead of one batch per event
   * burst. False when the lane has no row in the open batch, or the merged row would break a limit
   * (then the open batch goes now: it is full); the update then waits for the row to report.
   */
  fold(lane: L, id: string, attributes: Record<string, string>): boolean {
    const open = this.open;
    const row = open?.rows.get(id);
    if (!open || !row || row.lane !== lane) return false;
    if (!open.builder.fold(id, attributes)) {
      this.flush();
      return false;
    }
    open.changes++;
    return true;
  }

  /**
   * The row this update makes — with every attribute bulk sent the profile before in this run,
   * later values winning — when the route takes it; undefined when it goes by single update (an
   * mboxPC, an id Target cannot take in a batch, a row too large, or too many profiles remembered).
   */
  rowFor(identity: ProfileIdentity, attributes: Record<string, string>): Record<string, string> | undefined {
    if (identity.kind !== 'mbox3rdPartyId') return undefined;
    const known = this.remembered.get(identity.value);
    if (known === undefined && this.remembered.size >= this.options.rememberProfiles) return undefined;
    const row = known === undefined ? attributes : { ...(JSON.parse(known) as Record<string, string>), ...attributes };
    return fitsAlone({ id: identity.value, attributes: row }, this.limits()) ? row : undefined;
  }

  /** A single update reached this profile: Target no longer lets a later batch override the earlier one's properties. */
  forget(id: string): void {
    this.remembered.delete(id);
  }

  /** Sends the open batch now: nothing more will join it soon (the pipeline is full, or the input ended). */
  flush(): void {
    const batch = this.open;
    if (!batch || batch.rows.size === 0) return;
    this.open = undefined;
    batch.cancelLinger();
    void this.submit(batch);
  }

  /** Cancels every timer; rows not yet settled stay unsettled (their offsets are not committed). */
  stop(): void {
    this.stopped = true;
    this.open?.cancelLinger();
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.options.gate.stop();
  }

  private limits(): { maxRows: number; maxBytes: number } {
    return { maxRows: this.options.maxRows, maxBytes: this.options.maxBytes };
  }

  private enqueue(row: Row<L>): void {
    const entry = { id: row.id, attributes: row.attributes };
    if (this.open && !this.open.builder.fits(entry)) this.flush();
    if (!this.open) this.open = this.openBatch();
    this.open.builder.add(entry);
    row.attributes = IN_BUILDER;
    this.open.rows.set(row.id, row);
    this.open.changes++;
    if (this.open.builder.rows >= this.limits().maxRows) this.flush();
  }

  private openBatch(): OpenBatch<L> {
    const batch: OpenBatch<L> = { builder: new BatchFileBuilder(this.limits()), rows: new Map(), cancelLinger: () => {}, changes: 0 };
    let changesBefore = 0;
    const linger = (): void => {
      if (this.open !== batch) return;
      // A backlog still being read keeps folding into this batch: it goes once the pipeline is
      // full, the input is read, the file is full, or nothing joined it for a whole linger_ms —
      // linger bounds a live stream's wait, not the pace of a backlog.
      const gathering = batch.changes > changesBefore && this.options.readingBacklog?.() === true;
      changesBefore = batch.changes;
      if (gathering) batch.cancelLinger = this.later(this.options.lingerMs, linger);
      else this.flush();
    };
    batch.cancelLinger = this.later(this.options.lingerMs, linger);
    return batch;
  }

  /** Submits a batch until Target accepts it (waiting out outages), then polls its status. */
  private async submit(batch: OpenBatch<L>): Promise<void> {
    const file = batch.builder.build();
    const rows = batch.rows;
    // The builder holds each row's attributes, folds merged in: the rows carry what was sent, for a retry and for the override rule.
    for (const row of rows.values()) row.attributes = batch.builder.attributesOf(row.id) as Record<string, string>;
    const name = `batch ${++this.batches}`;
    const { api, gate, retry, rowQuota, calls, clock, observer } = this.options;
    let probe = false;
    for (let failures = 0; ;) {
      // Taken for every attempt: a budget shared by the fleet holds rows only for a while, and a
      // failed submit may still have counted at Target. The call is taken last, right before
      // the request: its window is a minute.
      if (rowQuota && !(await this.take(rowQuota, rows.size))) return;
      if (calls && !(await this.take(calls, 1))) return;
      const result = await api.submit(file);
      rowQuota?.finished(rows.size);
      calls?.finished(1);
      if (this.stopped) return;
      if (result.kind === 'accepted') {
        gate.recordSuccess();
        observer?.batchSubmitted?.(rows.size, file.bytes);
        this.poll({ name, rows, rowCount: rows.size, acceptedAt: clock.now(), statusUrl: result.statusUrl });
        return;
      }
      if (result.kind === 'permanent') {
        // Refused as a whole (e.g. success=false): every row tries again, and counts it.
        if (probe) gate.withdrawProbe();
        for (const row of rows.values()) this.rowFailed(row, name, 'refused', result.error);
        return;
      }
      failures++;
      gate.recordFailure(result.error, probe, result.retryAfterMs);
      if (gate.isOpen) {
        observer?.submitRetried?.(result.error, gate.probeDueInMs() ?? 0);
        // Held with the other batches until it is the probe or the endpoint answers again.
        const why = await new Promise<GateResume>((resolve) => gate.hold(resolve));
        if (why === 'cancelled' || this.stopped) return;
        probe = why === 'probe';
      } else {
        const delay = retry.delay(failures, result.retryAfterMs);
        observer?.submitRetried?.(result.error, delay);
        if (!(await this.wait(delay))) return;
        probe = false;
      }
    }
  }

  /** Polls a batch's status, backing off from the poll interval to a minute, until each of its rows has settled. */
  private poll(batch: SentBatch<L>): void {
    this.pending.add(batch);
    const { api, calls, clock, pollIntervalMs, statusTimeoutMs, observer } = this.options;
    const cap = Math.max(POLL_BACKOFF_CAP_MS, pollIntervalMs);
    let interval = pollIntervalMs;
    let failures = 0;
    const reported = { succeeded: 0, failed: 0 };
    const report = (nextPollInMs: number | undefined) =>
      observer?.batchReported?.({ name: batch.name, rows: batch.rowCount, pending: batch.rows.size, ...reported }, nextPollInMs);
    report(interval);
    const check = async (): Promise<void> => {
      if (calls && !(await this.take(calls, 1))) return;
      const result = await api.status(batch.statusUrl);
      calls?.finished(1);
      if (this.stopped) return;
      if (result.kind === 'retryable') {
        // The status endpoint is down: the rows are Target's now, ask again later; an outage of
        // the endpoint opens its gate (fetching pauses) and spends its outage budget.
        this.options.gate.recordFailure(result.error, false, result.retryAfterMs);
        const delay = this.options.retry.delay(++failures, result.retryAfterMs);
        observer?.pollDeferred?.(batch.name, delay);
        this.later(delay, () => void check());
        return;
      }
      this.options.gate.recordSuccess();
      failures = 0;
      const timedOut = clock.now() - batch.acceptedAt >= statusTimeoutMs;
      let succeeded = 0;
      let failed = 0;
      let expired = 0;
      for (const [id, row] of batch.rows) {
        const status = result.kind === 'report' ? (result.rows.get(id) ?? 'pending') : 'error';
        if (status === 'success') {
          batch.rows.delete(id);
          this.remember(row);
          this.finish(row, { status: 'delivered' });
          succeeded++;
        } else if (status === 'error') {
          batch.rows.delete(id);
          this.rowFailed(
            row,
            result.kind === 'report' ? (result.batchId ?? batch.name) : batch.name,
            'error',
            result.kind === 'permanent' ? result.error : undefined,
          );
          failed++;
        } else if (timedOut) {
          batch.rows.delete(id);
          this.rowFailed(row, result.kind === 'report' ? (result.batchId ?? batch.name) : batch.name, 'pending');
          expired++;
        }
      }
      if (succeeded > 0) observer?.rowsReported?.('success', succeeded);
      if (failed > 0) observer?.rowsReported?.('error', failed);
      if (expired > 0) observer?.rowsReported?.('timeout', expired);
      reported.succeeded += succeeded;
      reported.failed += failed;
      if (batch.rows.size === 0) {
        this.pending.delete(batch);
        report(undefined);
        observer?.batchCompleted?.(batch.rowCount, clock.now() - batch.acceptedAt);
      } else {
        interval = Math.min(interval * 2, cap);
        report(interval);
        this.later(interval, () => void check());
      }
    };
    this.later(interval, () => void check());
  }

  /** A row that did not succeed: sent again in a later batch, or failed for good once its attempts are spent. */
  private rowFailed(row: Row<L>, batchId: string, rowStatus: string, cause?: unknown): void {
    row.attempts++;
    if (!this.options.retry.exhausted(row.attempts)) {
      this.enqueue(row);
      return;
    }
    const why =
      rowStatus === 'pending'
        ? `still pending ${this.options.statusTimeoutMs} ms after its batch was accepted`
        : rowStatus === 'refused'
          ? `its batch was refused: ${cause instanceof TargetError ? cause.message : String(cause)}`
          : 'Target reported error';
    this.finish(row, {
      status: 'failed',
      error: new BulkRowError(`bulk row for thirdPartyId ${row.id} failed ${row.attempts} time(s); last in ${batchId}: ${why}`, batchId, rowStatus),
      attempts: row.attempts,
    });
  }

  /** Settles a row for good, through the host: its lane's job ends with it. */
  private finish(row: Row<L>, result: UpdateResult): void {
    this.host?.finished(row.lane, result);
  }

  private remember(row: Row<L>): void {
    // Re-inserted, so that the map's order stays oldest-first should a bound ever evict by age.
    this.remembered.delete(row.id);
    this.remembered.set(row.id, JSON.stringify(row.attributes));
  }

  /** Age of the oldest batch still waiting for its status (0 when none): asked when scraped, so it grows while the status endpoint is down too. */
  oldestPendingMs(): number {
    let oldest = 0;
    const now = this.options.clock.now();
    for (const batch of this.pending) oldest = Math.max(oldest, now - batch.acceptedAt);
    return oldest;
  }

  private later(ms: number, fn: () => void): () => void {
    const cancel = this.options.clock.schedule(ms, () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
    return () => {
      this.timers.delete(cancel);
      cancel();
    };
  }

  /** Takes `n` units of `budget`, waiting while it is spent (nothing fails for it); false when the route stops first. */
  private async take(budget: Budget, n: number): Promise<boolean> {
    while (!budget.tryTake(n)) {
      if (!(await this.wait(budget.msUntilAvailable(n)))) return false;
    }
    return true;
  }

  /** Resolves true after `ms`, or false when the route stops first. */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve(false);
      this.later(ms, () => resolve(!this.stopped));
    });
  }
}
