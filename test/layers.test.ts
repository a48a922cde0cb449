/**
 * The layering rules in .dependency-cruiser.cjs, which `npm test` runs on connector/: proven able
 * to fail on a small tree that breaks each of them, naming the offending import.
 */
import { createRequire } from 'node:module';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
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
      'connector/core/pipeline.ts': "import { readFile } from 'node:fs';\nimport { Kafka } from 'kafkajs';\nimport { x } from '../adapters/kafka/consumer.js';\nexport const y = [readFile, Kafka, x];\n",
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
        'core-no-io-libraries: connector/core/pipeline.ts → node_modules/kafkajs/index.js',
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
});
