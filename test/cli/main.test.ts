import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/delivery-harness.js';

const cli = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
/** Like `cli`, with the exit code instead of a throw when it is not 0. */
const spawnCli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('the target-profile-sink binary', () => {
  it('offers every command of the contract', () => {
    const help = cli('--help');
    for (const command of [
      'spec',
      'check',
      'discover',
      'write',
      'run',
      'preview',
      'test',
      'init',
      'simulate-target',
      'demo',
      'replay-dead-letters',
      'backfill',
      'produce',
    ]) {
      expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('prints the SPEC message as one protocol line', () => {
    const lines = cli('spec').trim().split('\n');
    expect(lines).toHaveLength(1);
    const message = JSON.parse(lines[0]!) as { type: string; spec: { connectionSpecification: { required: string[] } } };
    expect(message.type).toBe('SPEC');
    expect(message.spec.connectionSpecification.required).toEqual(expect.arrayContaining(['kafka', 'target', 'mapping_file']));
  });

  it('prints one CATALOG line for the examples', () => {
    const lines = cli('discover', '--config', join(ROOT, 'examples/config.yaml')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const message = JSON.parse(lines[0]!) as { type: string; catalog: { streams: Array<{ name: string }> } };
    expect(message.type).toBe('CATALOG');
    expect(message.catalog.streams.map((s) => s.name)).toEqual(['crm.customer.updated', 'loyalty.card.swiped', 'transaction.completed']);
  });

  it('check follows Airbyte: exit 0 with a FAILED status, unless --exit-code asks for 1', () => {
    for (const [flags, exitCode] of [
      [[], 0],
      [['--exit-code'], 1],
    ] as const) {
      const { status, stdout } = spawnCli('check', '--config', '/nonexistent/config.yaml', ...flags);
      expect(status).toBe(exitCode);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const message = JSON.parse(lines[0]!) as { type: string; connectionStatus: { status: string } };
      expect(message).toMatchObject({ type: 'CONNECTION_STATUS', connectionStatus: { status: 'FAILED' } });
    }
    // Two CLI starts through tsx.
  }, 90_000);
});
