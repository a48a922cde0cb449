/**
 * The benchmark workloads: CRM customer events (the richest sample schema, mapped by the CRM
 * entry of examples/mapping.yaml: 16 attributes, a sha256, dates, decimals, a map expansion),
 * generated deterministically in blocks so that any range of a workload can be rebuilt, and
 * keyed by profile so that one profile's events stay in one partition in order.
 */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import { parse } from 'yaml';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleEvent } from '../../connector/tools/sample-events.js';
import { loadAvroSchema } from '../../connector/adapters/mapping-file/schema-file.js';
import { partitionFor, type BenchRecord, type TopicSpec } from './kafka.js';
import { repoPath, seededRandom } from './util.js';

const BLOCK = 1000;
const START = Date.parse('2026-01-05T08:00:00.000Z');

/** How events get their profile: one per event, Zipf-skewed over a population, or the generator's uniform customers. */
export type Profiles = { kind: 'distinct' } | { kind: 'zipf'; profiles: number; exponent: number } | { kind: 'uniform'; customers: number };

export interface Workload {
  /** Short, stable name; part of the topic name. */
  id: string;
  count: number;
  partitions: number;
  profiles: Profiles;
  seed: number;
}

export function topicName(w: Workload): string {
  // Bump the version when the generation below changes, so stale topics are not reused.
  return `bench.crm.${w.id}.${w.count}.p${w.partitions}.v1`;
}

let crmType: Type | undefined;

/** The CRM Avro type (with the connector's logical types), as the workloads encode it. */
export async function crmSchema(): Promise<Type> {
  crmType ??= await loadAvroSchema(repoPath('schemas/crm-customer-updated.avsc'));
  return crmType;
}

/** Cumulative Zipf distribution over ranks 1..n, for drawing by binary search. */
function zipfTable(n: number, exponent: number): Float64Array {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 1; rank <= n; rank++) {
    sum += 1 / rank ** exponent;
    cumulative[rank - 1] = sum;
  }
  for (let i = 0; i < n; i++) cumulative[i] = (cumulative[i] as number) / sum;
  return cumulative;
}

function drawRank(table: Float64Array, u: number): number {
  let lo = 0;
  let hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((table[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** Events `from`..`to` (exclusive) of a workload; the same range always yields the same events. */
export function workloadEvents(w: Workload, from: number, to: number): SampleEvent[] {
  const zipf = w.profiles.kind === 'zipf' ? zipfTable(w.profiles.profiles, w.profiles.exponent) : undefined;
  const out: SampleEvent[] = [];
  for (let block = Math.floor(from / BLOCK); block * BLOCK < to; block++) {
    const customers = w.profiles.kind === 'uniform' ? w.profiles.customers : 1000;
    const events = generateSampleEvents({
      count: BLOCK,
      customers,
      seed: w.seed * 100_003 + block,
      topics: [SAMPLE_TOPICS.crm],
      // Blocks follow each other in time, so `updatedAt` grows with the offset.
      start: new Date(START + block * BLOCK * 3000),
    });
    const random = seededRandom(w.seed * 7_919 + block);
    events.forEach((event, i) => {
      const index = block * BLOCK + i;
      if (index < from || index >= to) return;
      let id: string | undefined;
      if (w.profiles.kind === 'distinct') id = `D-${String(index).padStart(7, '0')}`;
      else if (zipf) id = `Z-${String(drawRank(zipf, random())).padStart(6, '0')}`;
      if (id !== undefined) {
        (event.value.customer as { id: string }).id = id;
        event.key = id;
      }
      out.push(event);
    });
  }
  return out;
}

/** The workload as a pre-filled topic spec (Avro-encoded values, keyed by profile). */
export async function workloadTopic(w: Workload): Promise<TopicSpec> {
  const type = await crmSchema();
  return {
    name: topicName(w),
    partitions: w.partitions,
    count: w.count,
    records(from, to): BenchRecord[] {
      return workloadEvents(w, from, to).map((e) => ({
        key: e.key,
        value: type.toBuffer(e.value),
        partition: partitionFor(e.key, w.partitions),
      }));
    },
  };
}

/** The CRM mapping entry of examples/mapping.yaml, pointed at `topic` with an absolute schema path. */
export async function crmMapping(topics: string[], route?: 'realtime'): Promise<unknown> {
  const example = parse(await readFile(repoPath('examples/mapping.yaml'), 'utf8')) as { mappings: Array<Record<string, unknown>> };
  const crm = example.mappings.find((m) => m.topic === SAMPLE_TOPICS.crm);
  if (!crm) throw new Error('examples/mapping.yaml has no crm.customer.updated mapping');
  return {
    version: 1,
    mappings: topics.map((topic) => ({ ...crm, topic, schema: repoPath('schemas/crm-customer-updated.avsc'), ...(route && { route }) })),
  };
}

/** The workloads the scenarios share (sizes shrink in quick mode). */
export function benchWorkloads(size: (n: number, min?: number) => number) {
  return {
    /** e2e-fast, the ceiling and naive at 0 ms: every event its own profile. */
    distinct: { id: 'distinct', count: size(200_000), partitions: 4, profiles: { kind: 'distinct' }, seed: 1 } satisfies Workload,
    /** e2e-latency and naive at 50 ms: the same kind of events, fewer of them. */
    distinctSmall: { id: 'distinct-small', count: size(20_000), partitions: 4, profiles: { kind: 'distinct' }, seed: 2 } satisfies Workload,
    /** coalescing: 10,000 profiles with Zipf(1) popularity. */
    zipf: {
      id: 'zipf',
      count: size(200_000),
      partitions: 4,
      profiles: { kind: 'zipf', profiles: size(10_000, 100), exponent: 1 },
      seed: 3,
    } satisfies Workload,
    /** memory: a large backlog over 100,000 customers (uniform). */
    backlog: { id: 'backlog', count: size(1_000_000), partitions: 4, profiles: { kind: 'uniform', customers: 100_000 }, seed: 4 } satisfies Workload,
    /** bulk: a large backlog over 200,000 profiles with Zipf(1) popularity, as the bulk-lane issue sets it. */
    bulkBacklog: {
      id: 'bulk-backlog',
      count: size(1_000_000),
      partitions: 4,
      profiles: { kind: 'zipf', profiles: size(200_000, 100), exponent: 1 },
      seed: 5,
    } satisfies Workload,
  };
}
