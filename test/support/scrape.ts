/** A child `run`'s /metrics, read as Prometheus would: a free port for it, and its samples parsed. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parse, stringify } from 'yaml';

/** One sample of the exposition text. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Rewrites a test workspace's config to serve /metrics and health on a free port; returns the port. */
export async function serveMetrics(configPath: string): Promise<number> {
  const port = await freePort();
  const config = parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(configPath, stringify({ ...config, metrics: { host: '127.0.0.1', port } }));
  return port;
}

/** Parses Prometheus' text exposition format (the subset prom-client writes). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples /metrics gives now; empty while the server does not answer yet. */
export async function scrape(port: number): Promise<Sample[]> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return response.ok ? parseExposition(await response.text()) : [];
  } catch {
    return [];
  }
}

/** The sum of a metric's samples whose labels include `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}
