/**
 * The Target sandbox (`simulate-target`) as a process of its own, for tests that judge when
 * requests arrived: in the test's process, producing events or polling offsets would hold up its
 * event loop, and requests would be logged later than they reached it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoggedUpdate } from '../../connector/tools/sandbox/update-log.js';
import { exitOf, ROOT, type TestResources } from './delivery-harness.js';

/** A running `simulate-target --create-missing`, read through its HTTP API. */
export interface SandboxProcess {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Updates accepted so far. */
  updateCount(): Promise<number>;
  /** Every accepted update in arrival order. */
  updates(): Promise<LoggedUpdate[]>;
  /** The attribute values of each mbox3rdPartyId profile (undefined when it does not exist). */
  profiles(ids: Iterable<string>): Promise<Map<string, Record<string, string> | undefined>>;
}

const CLIENT_CODE = 'acme';
const PAGE = 5000;
const PARALLEL_READS = 32;

/** Starts the sandbox process, stopped after the test whatever happens. */
export async function startSandboxProcess(resources: TestResources): Promise<SandboxProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'connector/cli/main.ts'),
      'simulate-target',
      '--port',
      '0',
      '--client-code',
      CLIENT_CODE,
      '--create-missing',
      '--seed',
      '42',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    exitOf(child).then(({ code, signal }) => {
      throw new Error(`simulate-target exited (${code ?? signal}) before listening: ${stderr}`);
    }),
  ]);
  lines.close();
  child.stdout.resume();
  const url = /^listening on (http:\/\/\S+)$/.exec(first)?.[1];
  if (!url) throw new Error(`simulate-target printed ${JSON.stringify(first)} instead of its URL`);

  const getJson = async (path: string): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, json: (await res.json()) as unknown };
  };
  return {
    url,
    updateCount: async () => ((await getJson('/_sandbox/stats')).json as { updates: number }).updates,
    async updates() {
      const all: LoggedUpdate[] = [];
      for (;;) {
        const { updates } = (await getJson(`/_sandbox/updates?from=${all.length}&limit=${PAGE}`)).json as { updates: LoggedUpdate[] };
        all.push(...updates);
        if (updates.length < PAGE) return all;
      }
    },
    async profiles(ids) {
      const list = [...ids];
      const out = new Map<string, Record<string, string> | undefined>();
      for (let i = 0; i < list.length; i += PARALLEL_READS) {
        await Promise.all(
          list.slice(i, i + PARALLEL_READS).map(async (id) => {
            const { status, json } = await getJson(`/rest/v1/profiles/thirdPartyId/${encodeURIComponent(id)}?client=${CLIENT_CODE}`);
            const attributes = status === 404 ? undefined : (json as { profileAttributes: Record<string, { value: string }> }).profileAttributes;
            out.set(id, attributes && Object.fromEntries(Object.entries(attributes).map(([name, a]) => [name, a.value])));
          }),
        );
      }
      return new Map(list.map((id) => [id, out.get(id)]));
    },
  };
}
