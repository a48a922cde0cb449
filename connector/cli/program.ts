/** The `target-profile-sink` command tree: one subcommand per file in ./commands. */
import { Command } from 'commander';
import { registerBackfill } from './commands/backfill.js';
import { registerCheck } from './commands/check.js';
import { registerDemo } from './commands/demo.js';
import { registerDiscover } from './commands/discover.js';
import { registerInit } from './commands/init.js';
import { registerPreview } from './commands/preview.js';
import { registerProduce } from './commands/produce.js';
import { registerReplayDeadLetters } from './commands/replay-dead-letters.js';
import { registerRun } from './commands/run.js';
import { registerSimulateTarget } from './commands/simulate-target.js';
import { registerSpec } from './commands/spec.js';
import { registerTest } from './commands/test.js';
import { registerWrite } from './commands/write.js';

/** Every command registered, ready to parse; separate from main.ts so tests can read the tree. */
export function createProgram(): Command {
  const program = new Command()
    .name('target-profile-sink')
    .description('Keeps Adobe Target visitor profiles current from Avro events on Kafka')
    .version('0.1.0');

  registerSpec(program);
  registerCheck(program);
  registerDiscover(program);
  registerWrite(program);
  registerRun(program);
  registerPreview(program);
  registerProduce(program);
  registerTest(program);
  registerInit(program);
  registerBackfill(program);
  registerReplayDeadLetters(program);
  registerSimulateTarget(program);
  registerDemo(program);
  return program;
}
