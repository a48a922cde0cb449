/** Starts a sandbox per test and closes it afterwards. */
import { afterEach } from 'vitest';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';

/** Returns a starter whose sandboxes are closed after each test of the calling file. */
export function useSandboxes(): (options?: SandboxOptions) => Promise<Sandbox> {
  const running: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const sandbox = await startSandbox({ clientCode: 'acme', seed: 1, ...options });
    running.push(sandbox);
    return sandbox;
  };
}

/** The update URL for a third-party id, with extra already-encoded query text. */
export function updateUrl(sandbox: Sandbox, id: string, extra = ''): string {
  return `${sandbox.url}/m2/acme/profile/update?mbox3rdPartyId=${encodeURIComponent(id)}${extra}`;
}

/** `&profile.<name>=<value>&...`, UTF-8 percent-encoded. */
export function profileParams(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([name, value]) => `&profile.${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('');
}
