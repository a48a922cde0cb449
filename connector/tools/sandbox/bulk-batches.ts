/**
 * Target's Bulk Profile Update API v2 behaviour without HTTP: accepted batches, their delayed
 * application, the override rule between consecutive batches, and order checks against single
 * updates. Time comes in as arguments, so every transition is decided by the caller's clock.
 */
import { identityKey, type IdentityKind, type ProfileIdentity } from '../../core/profile.js';
import type { BatchFile } from './batch-file.js';
import type { RowStatus } from './bulk-xml.js';
import type { ProfileStore } from './profile-store.js';
import type { UpdateLog } from './update-log.js';

/** One batch as `/_sandbox/batches` lists it. */
export interface BatchSummary {
  id: string;
  /** ISO 8601 times the file was accepted and its rows apply (or applied). */
  submittedAt: string;
  appliesAt: string;
  /** Size of the uploaded file. */
  bytes: number;
  rows: number;
  /** Rows by status; every row is `pending` until the batch applies. */
  statuses: Record<RowStatus, number>;
  /** Decoded header: the identity column, then the parameter names. */
  header: string[];
}

/** One batch with the status of each row, in file order. */
export interface BatchDetail extends BatchSummary {
  profiles: { id: string; status: RowStatus }[];
}

/** Bulk counters, merged into the sandbox stats. */
export interface BulkBatchStats {
  /** Batches accepted and batches whose rows have applied. */
  bulkBatches: number;
  bulkBatchesApplied: number;
  bulkRowsPending: number;
  bulkRowsSucceeded: number;
  bulkRowsFailed: number;
  /** Bytes of every accepted batch file. */
  bulkBytes: number;
  /**
   * Single updates that arrived for a profile with a row in a pending batch, plus profiles of a
   * submitted batch that already had a row in another pending batch: what the connector must avoid.
   */
  bulkOrderViolations: number;
}

const SUCCEEDS = 1;
const FAILS = 2;

interface Batch {
  id: string;
  submittedAt: number;
  appliesAt: number;
  bytes: number;
  kind: IdentityKind;
  header: string[];
  ids: string[];
  names: string[];
  /** The file's cells and each row's identity key until the batch applies; dropped then, as statuses need only ids. */
  cells: string[] | undefined;
  keys: string[] | undefined;
  /** Each row's outcome, decided at submit and reported once the batch applies. */
  outcomes: Uint8Array;
  failing: number;
  applied: boolean;
}

/**
 * The bulk side of the simulated account.
 *
 * The override rule. Adobe documents: "Consecutive v2 batch update calls without mbox calls in
 * between for the same thirdPartyIds override the properties updated in the first batch update
 * call." Modelled as: each profile remembers the set of attribute names its last applied bulk row
 * set. When a later bulk row for it applies, the attributes that earlier row set and this row does
 * not set are removed from the profile; then this row applies and becomes the remembered one. A
 * single update (the "mbox call") accepted for the profile forgets the memory, so a bulk row after
 * it only adds. Attributes written by single updates or seeding are never removed by the rule
 * (unless a remembered bulk row also set them). The rule is applied to pcId rows the same way.
 */
export class BulkBatches {
  private batches = new Map<string, Batch>();
  /** Not yet applied, in submission order; the delay is fixed, so this is also apply order. */
  private queue: Batch[] = [];
  /** Rows in not-yet-applied batches, by identity key. */
  private pendingRows = new Map<string, number>();
  private lastBulkNames = new Map<string, readonly string[]>();
  /** Distinct name sets stored once: 200,000 profiles share a handful of them. */
  private nameSets = new Map<string, readonly string[]>();
  private sequence = 0;
  private counts = emptyCounts();

  constructor(
    private readonly profiles: ProfileStore,
    private readonly log: UpdateLog,
    private readonly delayMs: number,
  ) {}

  /**
   * Accepts a parsed batch at `now` and returns its id. `rowFails` is asked once per row in file
   * order and decides which rows will report `error` (and not apply).
   */
  submit(file: BatchFile, bytes: number, now: number, rowFails: (id: string) => boolean): string {
    const keys = file.ids.map((value) => identityKey({ kind: file.kind, value }));
    const violating = new Set<string>();
    for (const key of keys) if (this.pendingRows.has(key)) violating.add(key);
    this.counts.bulkOrderViolations += violating.size;
    for (const key of keys) this.pendingRows.set(key, (this.pendingRows.get(key) ?? 0) + 1);

    const outcomes = new Uint8Array(file.ids.length);
    let failing = 0;
    file.ids.forEach((id, row) => {
      const fails = rowFails(id);
      outcomes[row] = fails ? FAILS : SUCCEEDS;
      if (fails) failing++;
    });
    const id = `batch-${++this.sequence}`;
    const batch: Batch = {
      id,
      submittedAt: now,
      appliesAt: now + this.delayMs,
      bytes,
      kind: file.kind,
      header: file.header,
      ids: file.ids,
      names: file.names,
      cells: file.cells,
      keys,
      outcomes,
      failing,
      applied: false,
    };
    this.batches.set(id, batch);
    this.queue.push(batch);
    this.counts.bulkBatches++;
    this.counts.bulkBytes += bytes;
    this.counts.bulkRowsPending += file.ids.length;
    return id;
  }

  /** Applies every batch due by `now`, oldest first, each row in file order at its batch's apply time. */
  settle(now: number): void {
    let due = 0;
    while (due < this.queue.length && (this.queue[due]?.appliesAt ?? Infinity) <= now) {
      const batch = this.queue[due++];
      if (batch) this.apply(batch);
    }
    if (due > 0) this.queue = this.queue.slice(due);
  }

  /** Counts an order violation when a single update arrives for a profile with a pending bulk row. */
  singleUpdateArrived(identity: ProfileIdentity): void {
    if (this.pendingRows.has(identityKey(identity))) this.counts.bulkOrderViolations++;
  }

  /** A single update was accepted for the profile: the next bulk row for it overrides nothing. */
  singleUpdateAccepted(identity: ProfileIdentity): void {
    this.lastBulkNames.delete(identityKey(identity));
  }

  /** The row ids of a batch and a reader of each row's status, or undefined for an unknown id. */
  rowStatuses(id: string): { ids: readonly string[]; statusOf: (row: number) => RowStatus } | undefined {
    const batch = this.batches.get(id);
    return batch && { ids: batch.ids, statusOf: (row) => rowStatus(batch, row) };
  }

  /** Every batch since the last clear, in submission order. */
  summaries(): BatchSummary[] {
    return [...this.batches.values()].map(summarize);
  }

  /** One batch with its rows' statuses, or undefined for an unknown id. */
  detail(id: string): BatchDetail | undefined {
    const batch = this.batches.get(id);
    return batch && { ...summarize(batch), profiles: batch.ids.map((rowId, row) => ({ id: rowId, status: rowStatus(batch, row) })) };
  }

  /** The bulk counters. */
  stats(): BulkBatchStats {
    return { ...this.counts };
  }

  /** Forgets every batch, the override memory and the counters; batch numbering restarts. */
  clear(): void {
    this.batches = new Map();
    this.queue = [];
    this.pendingRows = new Map();
    this.lastBulkNames = new Map();
    this.nameSets = new Map();
    this.sequence = 0;
    this.counts = emptyCounts();
  }

  private apply(batch: Batch): void {
    const { ids, names, outcomes, appliesAt } = batch;
    const cells = batch.cells ?? [];
    const keys = batch.keys ?? [];
    const width = names.length;
    // Rows of one batch share a few patterns of set cells; each pattern's name list is built once.
    const patterns = new Map<string, readonly string[]>();
    const set: string[] = [];
    const values: string[] = [];
    for (let row = 0; row < ids.length; row++) {
      const key = keys[row] ?? '';
      this.releasePending(key);
      if (outcomes[row] === FAILS) continue;
      let pattern = '';
      set.length = 0;
      values.length = 0;
      for (let c = 0; c < width; c++) {
        const value = cells[row * width + c] ?? '';
        pattern += value === '' ? '0' : '1';
        if (value === '') continue;
        set.push(names[c] ?? '');
        values.push(value);
      }
      const rowNames = patterns.get(pattern) ?? this.internNames([...set]);
      patterns.set(pattern, rowNames);
      const identity: ProfileIdentity = { kind: batch.kind, value: ids[row] ?? '' };
      const earlier = this.lastBulkNames.get(key);
      if (earlier && earlier !== rowNames)
        this.profiles.remove(
          identity,
          earlier.filter((name) => !rowNames.includes(name)),
        );
      this.profiles.upsert(identity, rowNames, values, appliesAt);
      this.lastBulkNames.set(key, rowNames);
      this.log.appendBulkRow(identity, rowNames, values, appliesAt, batch.id);
    }
    batch.applied = true;
    batch.cells = undefined;
    batch.keys = undefined;
    this.counts.bulkBatchesApplied++;
    this.counts.bulkRowsPending -= ids.length;
    this.counts.bulkRowsFailed += batch.failing;
    this.counts.bulkRowsSucceeded += ids.length - batch.failing;
  }

  private releasePending(key: string): void {
    const left = (this.pendingRows.get(key) ?? 1) - 1;
    if (left === 0) this.pendingRows.delete(key);
    else this.pendingRows.set(key, left);
  }

  private internNames(names: string[]): readonly string[] {
    const key = JSON.stringify(names);
    let stored = this.nameSets.get(key);
    if (!stored) {
      stored = names;
      this.nameSets.set(key, stored);
    }
    return stored;
  }
}

function rowStatus(batch: Batch, row: number): RowStatus {
  if (!batch.applied) return 'pending';
  return batch.outcomes[row] === FAILS ? 'error' : 'success';
}

function summarize(batch: Batch): BatchSummary {
  const rows = batch.ids.length;
  const { applied } = batch;
  return {
    id: batch.id,
    submittedAt: new Date(batch.submittedAt).toISOString(),
    appliesAt: new Date(batch.appliesAt).toISOString(),
    bytes: batch.bytes,
    rows,
    statuses: {
      pending: applied ? 0 : rows,
      success: applied ? rows - batch.failing : 0,
      error: applied ? batch.failing : 0,
    },
    header: batch.header,
  };
}

function emptyCounts(): BulkBatchStats {
  return {
    bulkBatches: 0,
    bulkBatchesApplied: 0,
    bulkRowsPending: 0,
    bulkRowsSucceeded: 0,
    bulkRowsFailed: 0,
    bulkBytes: 0,
    bulkOrderViolations: 0,
  };
}
