/**
 * `npm test`'s vitest step as CI sees it: output piped to a log, not a terminal. vitest's colour
 * library colours whenever TERM is set, terminal or not, so the script must say NO_COLOR itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testTempDir } from '../support/test-run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ESC = '\u001b';

/** Runs `npm run test:vitest` on a one-test folder of its own, stdout and stderr piped; returns the exit code and output. */
async function runTestScript(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const dir = await testTempDir('test-script');
  await writeFile(join(dir, 'one.test.js'), "test('passes', () => expect(1).toBe(1));\n");
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['FORCE_COLOR', 'NO_COLOR', 'CI'].includes(name)));
  const child = spawn('npm', ['run', '--silent', 'test:vitest', '--', '--root', dir, '--globals'], {
    cwd: root,
    env: { ...base, TERM: 'xterm-256color', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('the test script', () => {
  it('prints no colour codes when its output is not a terminal', async () => {
    const { code, output } = await runTestScript({});
    expect(code, output).toBe(0);
    expect(output).toContain('1 passed');
    expect(output.includes(ESC), JSON.stringify(output)).toBe(false);
  });

  it('still colours when FORCE_COLOR asks for it', async () => {
    const { code, output } = await runTestScript({ FORCE_COLOR: '1' });
    expect(code, output).toBe(0);
    expect(output.includes(ESC)).toBe(true);
  });
});
