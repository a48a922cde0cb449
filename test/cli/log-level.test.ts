import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS } from '../../connector/observe/logger.js';
import { ROOT } from '../support/delivery-harness.js';

/** Runs the binary from source the way a user would, without throwing on a non-zero exit. */
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

// Each case starts the CLI through tsx: seconds apiece on a loaded two-core machine.
const CLI_TEST_MS = 90_000;

// Every command with the option, with what else it requires; nothing is read before parsing fails.
const COMMANDS: Record<string, string[]> = {
  check: ['--config', 'missing.yaml'],
  run: ['--config', 'missing.yaml'],
  write: ['--config', 'missing.yaml', '--catalog', 'missing.json'],
  'replay-dead-letters': ['--config', 'missing.yaml'],
};

describe('--log-level', () => {
  it.each(Object.entries(COMMANDS))(
    '%s rejects an unknown level with the valid ones and no stack trace',
    (command, required) => {
      const { status, stdout, stderr } = cli(command, ...required, '--log-level', 'loud');
      expect(status).not.toBe(0);
      expect(stdout).toBe('');
      expect(stderr).toContain(`argument 'loud' is invalid. Allowed choices are ${LOG_LEVELS.join(', ')}.`);
      expect(stderr).not.toMatch(/^\s+at /m);
    },
    CLI_TEST_MS,
  );

  it(
    'accepts a valid level',
    () => {
      const { status, stdout } = cli('check', '--config', '/nonexistent/config.yaml', '--log-level', 'debug');
      expect(status).toBe(0);
      expect(JSON.parse(stdout) as { type: string }).toMatchObject({ type: 'CONNECTION_STATUS' });
    },
    CLI_TEST_MS,
  );
});
