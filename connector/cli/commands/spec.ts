/** `target-profile-sink spec`: the Airbyte SPEC message. */
import type { Command } from 'commander';
import { specMessage } from '../../apps/spec/spec.js';

/** Adds the `spec` subcommand. */
export function registerSpec(program: Command): void {
  program
    .command('spec')
    .description('print the Airbyte SPEC message (the config schema from spec.json)')
    .action(() => {
      process.stdout.write(`${specMessage()}\n`);
    });
}
