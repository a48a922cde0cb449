/** What every subcommand offers alike, read from the command tree the binary parses with. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../connector/cli/program.js';

const commands = createProgram().commands;

describe('every command', () => {
  it('is found in the tree', () => {
    expect(commands.map((c) => c.name())).toEqual(expect.arrayContaining(['spec', 'run', 'simulate-target', 'demo']));
  });

  it.each(commands.map((c) => [c.name(), c] as const))('%s lists --log-level in its help', (_name, command) => {
    expect(command.helpInformation()).toMatch(/^\s+--log-level <level>/m);
  });
});

/** The options `demo` would run with for `args`, parsed by the real tree with the demo itself left out. */
function demoOptions(...args: string[]): Record<string, unknown> {
  const program = createProgram().exitOverride();
  const demo = program.commands.find((c) => c.name() === 'demo') as Command;
  demo.action(() => {});
  program.parse(['demo', ...args], { from: 'user' });
  return demo.opts();
}

describe('demo --verbose, kept from before --log-level', () => {
  it('means --log-level info; the default is warn; an explicit --log-level wins', () => {
    expect(demoOptions().logLevel).toBe('warn');
    expect(demoOptions('--verbose').logLevel).toBe('info');
    expect(demoOptions('--verbose', '--log-level', 'debug').logLevel).toBe('debug');
  });
});
