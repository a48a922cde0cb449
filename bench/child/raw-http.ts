/**
 * Ceiling (b): how many update requests the sandbox answers when undici alone sends them, at the
 * connector's concurrency. The requests are the very ones the connector builds for the workload
 * (same URLs, same sizes), built before the clock starts; with `asPost`, each GET is sent as the
 * POST Target also takes (the identity in the URL, the attributes as a form body), to weigh the two.
 */
import { Pool } from 'undici';
import { loadConfig } from '../../connector/adapters/config/load.js';
import { loadConfiguredMapping } from '../../connector/adapters/mapping-file/load.js';
import { requestBuilderFor } from '../../connector/apps/common/delivery.js';
import type { TargetRequest } from '../../connector/core/profile.js';
import { topicName, workloadEvents, type Workload } from '../lib/workloads.js';
import { mark, serve } from './protocol.js';

export interface RawHttpParams {
  configPath: string;
  workload: Workload;
  /** Requests to send (built from the first events of the workload). */
  requests: number;
  concurrency: number;
  /** Sends every GET as a POST with the same parameters. */
  asPost?: boolean;
}

export interface RawHttpResult {
  requests: number;
  failures: number;
  runMs: number;
  cpuSeconds: number;
  /** Average request size (URL + body), bytes. */
  meanBytes: number;
}

/** A GET update as a POST: the URL up to the identity, the attribute pairs as the form body (as the request builder makes POSTs). */
function asPost(path: string): { path: string; method: 'POST'; body: string } {
  const cut = path.indexOf('&');
  return { path: path.slice(0, cut), method: 'POST', body: path.slice(cut + 1) };
}

serve<RawHttpParams, RawHttpResult>(async (params, ready) => {
  const config = await loadConfig(params.configPath);
  const mapping = await loadConfiguredMapping(config);
  const builder = requestBuilderFor(config.target);
  const topic = topicName(params.workload);
  const type = mapping.readerSchema(topic);
  if (!type) throw new Error(`no schema for ${topic}`);
  const paths: TargetRequest[] = [];
  for (let from = 0; paths.length < params.requests && from < params.workload.count; from += 10_000) {
    for (const event of workloadEvents(params.workload, from, Math.min(from + 10_000, params.workload.count))) {
      // Through Avro bytes, as the connector sees them.
      const value = type.fromBuffer(type.toBuffer(event.value));
      for (const outcome of mapping.mapEvent(topic, value)) {
        if (outcome.kind === 'update') paths.push(...builder.build(outcome.update));
      }
    }
  }
  paths.length = Math.min(paths.length, params.requests);
  const origin = new URL(config.target.base_url).origin;
  const requests = paths.map((r) =>
    params.asPost && r.method === 'GET' ? asPost(r.url.slice(origin.length)) : { path: r.url.slice(origin.length), method: r.method, body: r.body },
  );
  const meanBytes = requests.reduce((sum, r) => sum + r.path.length + (r.body?.length ?? 0), 0) / requests.length;

  const pool = new Pool(origin, { connections: params.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  let next = 0;
  let failures = 0;
  const worker = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const r = requests[i] as (typeof requests)[number];
      const res = await pool.request({
        path: r.path,
        method: r.method,
        body: r.body,
        headers: r.body === undefined ? undefined : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.startsWith('true')) failures++;
    }
  };
  ready();
  mark('start');
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: params.concurrency }, worker));
  const runMs = performance.now() - started;
  mark('done');
  const cpu = process.cpuUsage(cpuBefore);
  await pool.close();
  return { requests: requests.length, failures, runMs, cpuSeconds: (cpu.user + cpu.system) / 1e6, meanBytes };
});
