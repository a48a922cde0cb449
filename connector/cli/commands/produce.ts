/** `target-profile-sink produce`: test events from JSON lines onto a mapped topic. */
import type { Command } from 'commander';
import { runProduce, type ProduceOptions } from '../../apps/produce/produce.js';
import { logLevelOption } from '../log-level.js';

/** Adds the `produce` subcommand. */
export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description("encode JSON lines with the topic's Avro schema and produce them (to try a mapping end to end)")
    .requiredOption('--config <file>', 'connector config (YAML or JSON): its brokers, schema_registry and mapping')
    .requiredOption('--topic <topic>', 'a mapped topic; its events must fit its schema')
    .requiredOption('--input <file>', 'JSON lines, one event each in Avro\'s JSON form (or preview\'s {"topic": ..., "value": {...}}); - reads stdin')
    .option(
      '--key <path>',
      "field path whose value keys each message (default: the mapping's identity path, so one profile's events share a partition and stay in order)",
    )
    .addOption(logLevelOption('warn'))
    .addHelpText(
      'after',
      `
Every line is checked before anything is sent: a line that is not JSON or does not fit the schema
is reported as file:line with the field and the type it expects, and nothing is produced (exit 1).
Without schema_registry the values are plain Avro written with the mapping's schema; with it they
carry the Confluent framing, with the schema registered (or found) under <topic>-value. On
success it prints one line: the events produced per partition (exit 0). Config, mapping, schema,
input or Kafka problems exit 2.`,
    )
    .action(async (options: ProduceOptions) => {
      process.exitCode = await runProduce(options);
    });
}
