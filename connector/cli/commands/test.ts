/** `target-profile-sink test`: runs the mapping test cases kept beside the mapping. */
import { Option, type Command } from 'commander';
import { logLevelOption } from '../log-level.js';
import { runMappingTests, type MappingTestOptions } from '../../apps/mapping-test/mapping-test.js';
import { REPORTERS } from '../../core/mapping-tests/report.js';

/** Adds the `test` subcommand. */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description('run the mapping test cases (*.test.yaml beside the mapping): input event → expected updates, filter or dead letter; no network')
    .requiredOption('--config <file>', 'connector config (YAML or JSON); its mapping_file folder holds the *.test.yaml files')
    .addOption(new Option('--reporter <format>', 'report format on stdout').choices(REPORTERS).default('pretty'))
    .option('--update', 'write the actual outcome into cases that expect nothing yet (never over an expectation)')
    .addOption(logLevelOption('warn'))
    .action(async (options: MappingTestOptions) => {
      process.exitCode = await runMappingTests(options);
    });
}
