/**
 * Replicas of `run` in one consumer group for the fleet test: each stamps its updates with its own
 * name and a per-profile sequence, so the sandbox's log tells who sent what and in which order.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { LoggedUpdate } from '../../connector/tools/sandbox/update-log.js';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleEvent } from '../../connector/tools/sample-events.js';
import { PROBE_IDENTITY } from '../../connector/apps/common/target-probe.js';
import { runChild } from './child-run.js';
import {
  committedOffsets,
  eventIdAttribute,
  exitOf,
  expectedEffect,
  expectedProfiles,
  testMapping,
  writeWorkspace,
  type Produced,
  type TestResources,
  type TestTopics,
  type WorkspaceOptions,
} from './delivery-harness.js';
import { createTopics } from './kafka.js';

/** The constant attribute naming the replica that sent an update. */
export const REPLICA_ATTRIBUTE = 'replica';
/** The attribute carrying the event's `updatedAt` in epoch milliseconds: it grows along each profile's events. */
export const SEQUENCE_ATTRIBUTE = 'seq';

/**
 * Creates the CRM topic and the dead-letter topic under `prefix` (deleted after the file). The
 * loyalty and transaction topics are named, as TestTopics wants, but not created: nothing reads them.
 */
export async function createCrmTopics(prefix: string, partitions: number): Promise<TestTopics> {
  const byKind = {
    [SAMPLE_TOPICS.crm]: `${prefix}.crm`,
    [SAMPLE_TOPICS.loyalty]: `${prefix}.loyalty`,
    [SAMPLE_TOPICS.transaction]: `${prefix}.txn`,
  };
  const deadLetter = `${prefix}.dlq`;
  await createTopics([byKind[SAMPLE_TOPICS.crm]], partitions);
  await createTopics([deadLetter], 1);
  return { prefix, byKind, deadLetter, all: [byKind[SAMPLE_TOPICS.crm]] };
}

/** The updates without the start-up probes of `run` (check's probe identity, no attributes): what the replicas delivered. */
export function withoutProbes<U extends LoggedUpdate>(updates: readonly U[]): U[] {
  return updates.filter((u) => u.identity.value !== PROBE_IDENTITY.value);
}

/** `count` CRM events over `customers` customers, in the order they are produced. */
export function crmEvents(count: number, customers: number, seed: number): SampleEvent[] {
  return generateSampleEvents({ count, customers, seed, topics: [SAMPLE_TOPICS.crm] });
}

interface MappingEntry {
  topic: string;
  attributes: Record<string, unknown>;
}

/** The delivery tests' CRM mapping plus the sequence and a constant naming `replica`. */
export function replicaMapping(topics: TestTopics, replica: string): unknown {
  // The delivery tests' mapping, so that expectedProfiles() stays its reference.
  const { mappings } = testMapping(topics) as { mappings: MappingEntry[] };
  const crm = mappings.find((m) => m.topic === topics.byKind[SAMPLE_TOPICS.crm]) as MappingEntry;
  const attributes = {
    ...crm.attributes,
    [SEQUENCE_ATTRIBUTE]: { path: 'updatedAt', transform: 'epoch_millis' },
    [REPLICA_ATTRIBUTE]: { value: replica },
  };
  return { version: 1, mappings: [{ ...crm, attributes }] };
}

/** Writes one replica's own config and mapping (see writeWorkspace) with a shorter session timeout; returns the config path. */
export function writeReplicaWorkspace(options: Omit<WorkspaceOptions, 'mapping'>, replica: string, sessionTimeoutMs: number): string {
  const path = writeWorkspace({ ...options, mapping: replicaMapping(options.topics, replica) });
  const config = parse(readFileSync(path, 'utf8')) as { kafka: Record<string, unknown> };
  // A killed member holds its partitions until its session ends: the shorter, the sooner the failover.
  config.kafka.session_timeout_ms = sessionTimeoutMs;
  writeFileSync(path, stringify(config));
  return path;
}

/** One `run` child of the fleet. */
export interface Replica {
  name: string;
  child: ChildProcess;
  /** Each time the replica joined the group (its log's time, epoch ms) and how many partitions it got. */
  joins(): Array<{ at: number; partitions: number }>;
}

/** Starts a replica as a child killed after the test whatever happens (runChild), following its joins in its log. */
export function startReplica(resources: TestResources, configPath: string, name: string): Replica {
  const { child } = runChild(resources, configPath);
  const joins: Array<{ at: number; partitions: number }> = [];
  let partial = '';
  // Only complete lines are parsed: a chunk may end in the middle of one.
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; time?: number; partitions?: number };
      if (entry.msg === 'joined consumer group') joins.push({ at: Number(entry.time), partitions: Number(entry.partitions) });
    }
  });
  return { name, child, joins: () => [...joins] };
}

/** The share of the produced events (0 to 1) below the group's committed offsets. */
export async function committedShare(groupId: string, produced: Produced[]): Promise<number> {
  const committed = await committedOffsets(groupId, [...new Set(produced.map((p) => p.topic))]);
  return produced.filter((p) => p.offset < (committed.get(`${p.topic}|${p.partition}`) ?? 0)).length / produced.length;
}

/** The partitions whose committed offset is short of their end, as `partition committed/end`; empty once all are committed. */
export async function uncommittedPartitions(groupId: string, produced: Produced[]): Promise<string[]> {
  const ends = new Map<string, number>();
  for (const p of produced) ends.set(`${p.topic}|${p.partition}`, Math.max(ends.get(`${p.topic}|${p.partition}`) ?? 0, p.offset + 1));
  const committed = await committedOffsets(groupId, [...new Set(produced.map((p) => p.topic))]);
  return [...ends].filter(([k, end]) => (committed.get(k) ?? -1) < end).map(([k, end]) => `${k} ${committed.get(k) ?? 'none'}/${end}`);
}

/** Resolves with the child's exit code, or fails naming `name` when it has not exited within `ms`. */
export function exitWithin(replica: Replica, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exitOf(replica.child).then((e) => e.code),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${replica.name} did not exit within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Updates the sandbox received, counted per replica. */
export function updatesPerReplica(updates: LoggedUpdate[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of withoutProbes(updates)) {
    const name = u.attributes[REPLICA_ATTRIBUTE] ?? '(none)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** expectedProfiles() plus the sequence of each profile's last mapped event. */
export function expectedWithSequence(events: SampleEvent[]): Map<string, Record<string, string>> {
  const profiles = expectedProfiles(events);
  for (const e of events) {
    const profile = profiles.get(e.key);
    if (profile && expectedEffect(e)) profile[SEQUENCE_ATTRIBUTE] = String((e.value.updatedAt as Date).getTime());
  }
  return profiles;
}

/** A profile's attributes without the replica that happened to write last. */
export function withoutReplica(profile: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!profile) return profile;
  const { [REPLICA_ATTRIBUTE]: _replica, ...rest } = profile;
  return rest;
}

/**
 * Where a replica sent one profile's updates out of order. Within one term of a replica (from
 * one of its joins of the group to the next) a profile's sequence never goes back, and repeats
 * only in a resend of the same update. Across terms it may go back: after a rebalance the
 * replica reads its partitions again from their committed offsets, which may be below what it
 * sent. `joinTimes` gives each replica's join times (epoch ms), ascending.
 */
export function orderViolations(updates: LoggedUpdate[], joinTimes: ReadonlyMap<string, readonly number[]>): string[] {
  const latest = new Map<string, LoggedUpdate>();
  const violations: string[] = [];
  for (const u of withoutProbes(updates)) {
    const replica = u.attributes[REPLICA_ATTRIBUTE];
    const seq = Number(u.attributes[SEQUENCE_ATTRIBUTE]);
    if (replica === undefined || !Number.isFinite(seq)) {
      violations.push(`update #${u.index} for ${u.identity.value} names no replica or sequence`);
      continue;
    }
    const at = Date.parse(u.receivedAt);
    const term = (joinTimes.get(replica) ?? []).filter((joined) => joined <= at).length;
    const key = `${replica}|${term}|${u.identity.value}`;
    const before = latest.get(key);
    const previous = before ? Number(before.attributes[SEQUENCE_ATTRIBUTE]) : -Infinity;
    if (before && (seq < previous || (seq === previous && JSON.stringify(u.attributes) !== JSON.stringify(before.attributes)))) {
      violations.push(`${replica} (term ${term}) sent ${u.identity.value} seq ${seq} (update #${u.index}) after seq ${previous} (update #${before.index})`);
    }
    if (seq >= previous) latest.set(key, u);
  }
  return violations;
}

/** Where a killed replica left work behind, and whether the others did it again. */
export interface Takeover {
  /** Events the killed replica delivered at or above its partitions' committed offsets: lost with it, uncommitted. */
  uncommitted: Produced[];
  /** Those of them no other replica delivered after the kill, neither themselves nor merged into a later event of their profile. */
  notRedone: Produced[];
}

/** Which delivered-but-uncommitted events of `killed` the other replicas delivered again after `killedAt` (epoch ms). */
export function takeover(produced: Produced[], updates: LoggedUpdate[], killed: string, committedAtKill: Map<string, number>, killedAt: number): Takeover {
  const byId = new Map(produced.map((p) => [eventIdAttribute(p.event).value, p]));
  // A profile's events in offset order (one partition per key), so that a merged update is traced to the events it covers.
  const profileKey = (p: Produced) => `${p.topic}|${p.partition}|${p.event.key}`;
  const byProfile = new Map<string, Produced[]>();
  for (const p of produced) byProfile.set(profileKey(p), [...(byProfile.get(profileKey(p)) ?? []), p]);
  const redoneIds = new Set<string>();
  const uncommitted = new Set<Produced>();
  for (const u of updates) {
    const p = byId.get(u.attributes.crmEventId ?? '');
    if (!p) continue;
    if (u.attributes[REPLICA_ATTRIBUTE] === killed) {
      if (p.offset >= (committedAtKill.get(`${p.topic}|${p.partition}`) ?? 0)) uncommitted.add(p);
    } else if (Date.parse(u.receivedAt) > killedAt) {
      redoneIds.add(eventIdAttribute(p.event).value);
    }
  }
  const notRedone = [...uncommitted].filter(
    (p) => !(byProfile.get(profileKey(p)) ?? []).some((q) => q.offset >= p.offset && redoneIds.has(eventIdAttribute(q.event).value)),
  );
  return { uncommitted: [...uncommitted], notRedone };
}
