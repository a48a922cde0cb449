#!/usr/bin/env node
/** The `target-profile-sink` command line: one subcommand per file in ./commands. */
import { Command } from 'commander';
import { registerSimulateTarget } from './commands/simulate-target.js';

const program = new Command()
  .name('target-profile-sink')
  .description('Keeps Adobe Target visitor profiles current from Avro events on Kafka')
  .version('0.1.0');

registerSimulateTarget(program);

await program.parseAsync(process.argv);
