/**
 * The layering rules in .dependency-cruiser.cjs, which `npm test` runs on connector/, and the
 * core's bans in eslint.config.js (no wall clock, timers, Math.random or Buffer): proven able to
 * fail on a small tree or file that breaks each of them, naming the offending import or global.
 */
import { createRequire } from 'node:module';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { testTempDir } from './support/test-run.js';

const ROOT = resolve(import.meta.dirname, '..');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration;

/** Writes `files` (path → source) under a fresh folder and cruises its connector/ with the project's rules. */
async function violationsIn(files: Record<string, string>): Promise<string[]> {
  const dir = await testTempDir('layers');
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  const previous = process.cwd();
  process.chdir(dir);
  try {
    const { output } = await cruise(['connector'], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true, tsConfig: undefined });
    // node_modules is a link to the project's: name packages from there, wherever it resolves to.
    return (output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\//, 'node_modules/')}`);
  } finally {
    process.chdir(previous);
  }
}

describe('the layering rules', () => {
  it('pass on the connector as it is', async () => {
    const { output } = await cruise(['connector'], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true });
    expect((output as ICruiseResult).summary.violations).toEqual([]);
  });

  it('name every import that breaks a layer', async () => {
    const violations = await violationsIn({
      'connector/core/pipeline.ts':
        "import { readFile } from 'node:fs';\nimport { Kafka } from 'kafkajs';\nimport { x } from '../adapters/kafka/consumer.js';\nexport const y = [readFile, Kafka, x];\n",
      'connector/core/retry.ts': "import { s } from '../tools/sandbox/server.js';\nexport const r = s;\n",
      'connector/adapters/kafka/consumer.ts': "import { c } from '../registry/client.js';\nexport const x = c;\n",
      'connector/adapters/registry/client.ts': 'export const c = 1;\n',
      'connector/apps/run/run.ts': "import { w } from '../write/write.js';\nimport { Command } from 'commander';\nexport const r = [w, Command];\n",
      'connector/apps/write/write.ts': "import { main } from '../../cli/main.js';\nexport const w = main;\n",
      'connector/cli/main.ts': 'export const main = 1;\n',
      'connector/tools/sandbox/server.ts': 'export const s = 1;\n',
    });
    expect(violations.sort()).toEqual(
      [
        'core-no-io: connector/core/pipeline.ts → fs',
        'core-npm-allow-list: connector/core/pipeline.ts → node_modules/kafkajs/index.js',
        'core-only-core: connector/core/pipeline.ts → connector/adapters/kafka/consumer.ts',
        'core-only-core: connector/core/retry.ts → connector/tools/sandbox/server.ts',
        'tools-not-in-product: connector/core/retry.ts → connector/tools/sandbox/server.ts',
        'adapters-independent: connector/adapters/kafka/consumer.ts → connector/adapters/registry/client.ts',
        'apps-independent: connector/apps/run/run.ts → connector/apps/write/write.ts',
        'commander-only-in-cli: connector/apps/run/run.ts → node_modules/commander/index.js',
        'cli-on-top: connector/apps/write/write.ts → connector/cli/main.ts',
      ].sort(),
    );
  });

  it('let the core import only its allow-listed npm packages, and keep observe and system in their place', async () => {
    const violations = await violationsIn({
      'connector/core/mapping.ts':
        "import { parseDocument } from 'yaml';\nimport { Ajv } from 'ajv';\nimport type { Type } from 'avsc';\nimport pLimit from 'p-limit';\nimport { pino } from 'pino';\nexport const m = [parseDocument, Ajv, pLimit, pino] as unknown as Type;\n",
      'connector/observe/metrics.ts':
        "import type { C } from '../adapters/kafka/consumer.js';\nimport { secret } from '../adapters/config/redact.js';\nimport { c } from '../adapters/registry/client.js';\nimport { r } from '../apps/run/run.js';\nimport Redis from 'ioredis';\nexport const m: C = [secret, c, r, Redis];\n",
      'connector/system/clock.ts': "import { m } from '../core/mapping.js';\nimport { c } from '../adapters/registry/client.js';\nexport const now = [m, c];\n",
      'connector/adapters/kafka/consumer.ts': 'export type C = unknown;\n',
      'connector/adapters/config/redact.ts': 'export const secret = 1;\n',
      'connector/adapters/registry/client.ts': 'export const c = 1;\n',
      'connector/apps/run/run.ts': "import { now } from '../../system/clock.js';\nexport const r = now;\n",
    });
    expect(violations.sort()).toEqual(
      [
        'core-npm-allow-list: connector/core/mapping.ts → node_modules/pino/pino.js',
        'observe-adapters-types-only: connector/observe/metrics.ts → connector/adapters/registry/client.ts',
        'observe-below-apps: connector/observe/metrics.ts → connector/apps/run/run.ts',
        'observe-no-io-clients: connector/observe/metrics.ts → node_modules/ioredis/built/index.js',
        'system-only-core: connector/system/clock.ts → connector/adapters/registry/client.ts',
      ].sort(),
    );
  });
});

describe("the core's bans on time, randomness and Node's Buffer", () => {
  const eslint = new ESLint({ cwd: ROOT });

  /** ESLint's messages for `code` as if it were a file at `path`. */
  async function lint(code: string, path: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('pass on the core as it is', async () => {
    // Only the bans: the other rules are `npm run lint`'s business.
    const bans = new ESLint({ cwd: ROOT, ruleFilter: ({ ruleId }) => ruleId.startsWith('no-restricted-') });
    const results = await bans.lintFiles(['connector/core']);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}: ${m.message}`))).toEqual([]);
  });

  it.each([
    ['Date.now', 'export const at = Date.now();\n'],
    ['Date.now', 'export const { now } = Date;\n'],
    ['performance.now', 'export const at = performance.now();\n'],
    ['Math.random', 'export const jitter = Math.random();\n'],
    ['setTimeout', 'export const timer = setTimeout(() => {}, 10);\n'],
    ['setInterval', 'export const timer = setInterval(() => {}, 10);\n'],
    ['setImmediate', 'setImmediate(() => {});\n'],
    ['clearTimeout', 'export const stop = (t: number) => clearTimeout(t);\n'],
    ['Buffer', "export const bytes = Buffer.from('x');\n"],
    ['Buffer', 'export const size = (bytes: Buffer) => bytes.length;\n'],
    ['process', 'export const env = process.env.HOME;\n'],
    ['globalThis.setTimeout', 'export const schedule = globalThis.setTimeout;\n'],
    ['Date', 'export const today = new Date();\n'],
  ])('name %s in a core file, and only there', async (name, code) => {
    const messages = await lint(code, 'connector/core/planted.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^no-restricted-(globals|properties|syntax): /);
    expect(messages[0]).toContain(name);
    expect(await lint(code, 'connector/adapters/planted.ts')).toEqual([]);
  });
});
