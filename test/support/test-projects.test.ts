import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.js';
import { testBrokers } from './kafka.js';
import { isIntegrationFile, PROCESS_FILES } from './test-projects.js';

// What a file imports when it needs a broker, Redis or a child process: the unit project has none of them.
const NEEDS_MORE_THAN_NODE: Array<[RegExp, string]> = [
  [/from '[./]*(support\/)?kafka\.js'|new Kafka\(|\b(createTestTopics|produceEvents|committedOffsets|startTestSink|spawnRun)\(/, 'Kafka'],
  [/from '(ioredis|[./]*redis-server\.js)'/, 'Redis'],
  [/from '(node:child_process|[./]*(child-run|sandbox-process|local-broker|lsp-client)\.js)'|startEntrypoint/, 'a child process'],
  [/promtool\.sh/, 'promtool'],
];
const ROOT = join(import.meta.dirname, '../..');
// This file calls testBrokers() to show it refuses; it starts nothing.
const SELF = 'test/support/test-projects.test.ts';

const testFiles = (readdirSync(join(ROOT, 'test'), { recursive: true }) as string[])
  .map((file) => `test/${file.split('\\').join('/')}`)
  .filter((file) => file.endsWith('.test.ts'));

interface ProjectConfig {
  test?: { name?: string; globalSetup?: string[] };
}
const projects = (config.test?.projects ?? []) as ProjectConfig[];
const project = (name: string) => projects.find((p) => p.test?.name === name)?.test;

describe('vitest projects', () => {
  it('the unit project starts no broker', () => {
    expect(project('unit')?.globalSetup).toBeDefined();
    expect(project('unit')?.globalSetup).not.toContain('test/support/kafka.global.ts');
    expect(project('integration')?.globalSetup).toContain('test/support/kafka.global.ts');
  });

  it('a unit test that asks for the broker fails at once, saying how to name its file', () => {
    expect(() => testBrokers()).toThrow(/unit project.*\*\.kafka\.test\.ts/);
  });

  it.each(testFiles.filter((file) => !isIntegrationFile(file) && file !== SELF))('%s needs nothing but Node', (file) => {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const needs = NEEDS_MORE_THAN_NODE.filter(([pattern]) => pattern.test(source)).map(([, what]) => what);
    expect(needs, `${file} needs ${needs.join(', ')}: name it *.kafka.test.ts or list it in PROCESS_FILES (test/support/test-projects.ts)`).toEqual([]);
  });

  it('every file listed as integration exists', () => {
    expect(PROCESS_FILES.filter((file) => !testFiles.includes(file))).toEqual([]);
  });
});
