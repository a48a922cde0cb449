/** `target-profile-sink spec`: the Airbyte SPEC message. */
import type { Command } from 'commander';
import { loadSpec, type ConnectorSpec } from '../../config/spec.js';

/** The SPEC message as one protocol line (no trailing newline). */
export function specMessage(spec: ConnectorSpec = loadSpec()): string {
  return JSON.stringify({ type: 'SPEC', spec });
}

/** Adds the `spec` subcommand. */
export function registerSpec(program: Command): void {
  program
    .command('spec')
    .description('print the Airbyte SPEC message (the config schema from spec.json)')
    .action(() => {
      process.stdout.write(`${specMessage()}\n`);
    });
}
