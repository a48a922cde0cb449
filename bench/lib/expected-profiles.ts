/**
 * The final profiles a workload should leave in Target: every event decoded and mapped on its own
 * (the CRM mapping the benchmarks run) and applied alone in offset order, later values winning
 * per attribute. Whatever route delivered it, merged or batched, the sandbox must end up here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { loadMapping } from '../../connector/adapters/mapping-file/load.js';
import type { Sandbox } from '../../connector/tools/sandbox/server.js';
import { crmMapping, crmSchema, topicName, workloadEvents, type Workload } from './workloads.js';

export interface ExpectedProfiles {
  /** Attributes per mbox3rdPartyId. */
  profiles: Map<string, Record<string, string>>;
  /** Updates the events make, one per mapped (not filtered) event. */
  updates: number;
}

/** Maps every event of the workload, in offset order, without merging anything. */
export async function expectedProfiles(w: Workload): Promise<ExpectedProfiles> {
  const topic = topicName(w);
  const dir = mkdtempSync(join(tmpdir(), 'tps-bench-'));
  let mapping;
  try {
    const file = join(dir, 'mapping.yaml');
    writeFileSync(file, stringify(await crmMapping([topic])));
    mapping = await loadMapping(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const type = await crmSchema();
  const profiles = new Map<string, Record<string, string>>();
  let updates = 0;
  for (let from = 0; from < w.count; from += 10_000) {
    for (const event of workloadEvents(w, from, Math.min(w.count, from + 10_000))) {
      // The connector maps what Avro decoding yields, so do the same.
      const value = type.fromBuffer(type.toBuffer(event.value));
      for (const outcome of mapping.mapEvent(topic, value)) {
        if (outcome.kind !== 'update') continue;
        updates++;
        const key = outcome.update.identity.value;
        profiles.set(key, { ...profiles.get(key), ...outcome.update.attributes });
      }
    }
  }
  return { profiles, updates };
}

/** Profiles whose attributes in the sandbox differ from the expected ones (missing ones included). */
export function differingProfiles(sandbox: Sandbox, expected: ExpectedProfiles): number {
  let differing = 0;
  for (const [id, attributes] of expected.profiles) {
    if (!isDeepStrictEqual(sandbox.profile('mbox3rdPartyId', id), attributes)) differing++;
  }
  return differing;
}
