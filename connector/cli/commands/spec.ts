/** `target-profile-sink spec`: the Airbyte SPEC message. */
import type { Command } from 'commander';
import { specMessage } from '../../apps/spec/spec.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `spec` subcommand. */
export function registerSpec(program: Command): void {
  program
    .command('spec')
    .description('print the Airbyte SPEC message (the config schema from spec.json)')
    // It logs nothing of its own; accepted so that one set of flags works for every command.
    .addOption(logLevelOption('info'))
    .action(() => {
      process.stdout.write(`${specMessage()}\n`);
    });
}
