/** Writes the config and mapping files a connector run reads, into a fresh temporary folder. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { benchBrokers } from './kafka.js';
import { crmMapping } from './workloads.js';

export interface WorkspaceOptions {
  topics: string[];
  targetUrl: string;
  groupId: string;
  /** Overrides of the delivery section; everything else keeps the connector's defaults. */
  delivery?: Record<string, unknown>;
  /** The mapping's door: single updates unless `realtime` (the Delivery API). */
  route?: 'realtime';
}

const folders = new Set<string>();
process.once('exit', () => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** Returns the config path (the folder is removed when the benchmark process exits). Only what a benchmark must set is set; the rest are the shipped defaults. */
export async function writeWorkspace(options: WorkspaceOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tps-bench-'));
  folders.add(dir);
  writeFileSync(join(dir, 'mapping.yaml'), stringify(await crmMapping(options.topics, options.route)));
  const config = {
    kafka: { brokers: benchBrokers(), group_id: options.groupId, from_beginning: true },
    target: { client_code: 'acme', base_url: options.targetUrl },
    mapping_file: 'mapping.yaml',
    delivery: { dead_letter_topic: 'bench.dlq', ...options.delivery },
    metrics: { port: 0 },
  };
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(config));
  return path;
}
