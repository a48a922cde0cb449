import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../connector/adapters/config/load.js';
import { loadSpec } from '../../../connector/adapters/config/spec.js';
import { DOCS_PATH, renderConfigDocs } from '../../../scripts/gen-config-docs.js';
import { testTempDir } from '../../support/test-run.js';

const script = fileURLToPath(new URL('../../../scripts/gen-config-docs.ts', import.meta.url));

/** Runs the generator as CI does and reports its exit code. */
async function runCheck(out: string): Promise<number> {
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--check', '--out', out]);
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

describe('docs/configuration.md', () => {
  it('is up to date with spec.json (run `npx tsx scripts/gen-config-docs.ts` if this fails)', async () => {
    expect(await readFile(DOCS_PATH, 'utf8')).toBe(renderConfigDocs(loadSpec()));
  });

  it('has a row per key with its default, requiredness and secrecy', () => {
    const docs = renderConfigDocs(loadSpec());
    expect(docs).toContain('| `delivery.concurrency` | integer ≥ 1 | `32` |  |  |');
    expect(docs).toContain('| `kafka.brokers` | list of string or string |  | yes |  |');
    expect(docs).toContain('| `kafka.sasl.password` | string |  | yes | yes |');
    expect(docs).toContain('| `target.long_values` | `truncate` / `reject` / `allow` | `"truncate"` |');
  });

  it('shows an example config that loads, with ${VAR:-default} falling back when the variable is unset', () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(renderConfigDocs(loadSpec()))?.[1] ?? '';
    const config = parseConfig(example, 'configuration.md', { KAFKA_PASSWORD: 'secret' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(parseConfig(example, 'configuration.md', { KAFKA_PASSWORD: 'secret', KAFKA_BROKERS: 'a:1,b:2' }).kafka.brokers).toEqual(['a:1', 'b:2']);
  });

  it('--check exits 0 when the file is current and 1 when it drifted', async () => {
    const dir = await testTempDir('docs');
    try {
      const out = join(dir, 'configuration.md');
      await writeFile(out, renderConfigDocs(loadSpec()));
      expect(await runCheck(out)).toBe(0);
      await writeFile(out, renderConfigDocs(loadSpec()).replace('`32`', '`16`'));
      expect(await runCheck(out)).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
