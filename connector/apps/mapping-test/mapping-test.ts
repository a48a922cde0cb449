/**
 * `test`: runs the mapping test cases kept beside the mapping (`*.test.yaml` in its folder). Each
 * case's event goes through the same decoding, mapping and planning as `run`, with no network,
 * and what it became is compared with what the case expects. `--update` records the outcome of
 * cases that expect nothing yet.
 */
import { relative } from 'node:path';
import { loadConfig } from '../../adapters/config/load.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { findTestFiles, readInputFile, readTestFile, writeTestFile } from '../../adapters/mapping-file/test-files.js';
import type { Config } from '../../core/config.js';
import { ConnectorError, formatProblem } from '../../core/errors.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import type { CaseOutcome, TestCase } from '../../core/mapping-tests/cases.js';
import { compareOutcome } from '../../core/mapping-tests/compare.js';
import { formatReport, type CaseResult, type Reporter } from '../../core/mapping-tests/report.js';
import { recordOutcomes } from '../../core/mapping-tests/snapshot.js';
import { runCaseEvent, type CasePayload } from '../common/mapping-cases.js';

export interface MappingTestOptions {
  config: string;
  reporter?: Reporter;
  /** Write the outcome of cases that have no expectation into their file. */
  update?: boolean;
}

/** Where the report goes (stdout) and the messages that are no report (stderr). */
export interface MappingTestOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_OUTPUT: MappingTestOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** The outcome lines of a case that expects nothing, so the reader sees what `--update` would write. */
function outcomeLines(outcome: CaseOutcome): string[] {
  if (outcome.kind !== 'updates') return [`+ ${outcome.kind}: ${outcome.reason}`];
  return outcome.updates.flatMap((u, i) => [
    `+ update ${i + 1}: ${u.identity.kind} ${JSON.stringify(u.identity.value)}, route ${u.route}`,
    ...Object.entries(u.attributes).map(([name, value]) => `+   ${name}: ${JSON.stringify(value)}`),
  ]);
}

interface Run {
  mapping: CompiledMapping;
  config: Config;
  update: boolean;
  /** Paths as the report shows them. */
  shown: (file: string) => string;
}

async function payloadOf(testCase: TestCase): Promise<CasePayload> {
  if (testCase.input.kind === 'json') return testCase.input;
  return { kind: 'avro', bytes: await readInputFile(testCase.file, testCase.input.path) };
}

/** Runs one case: its result, and its outcome when `--update` should record it. */
async function runCase(run: Run, testCase: TestCase): Promise<{ result: CaseResult; record?: CaseOutcome }> {
  const where = { file: run.shown(testCase.file), line: testCase.line, column: testCase.column, name: testCase.name };
  if (!run.mapping.topics.includes(testCase.topic)) {
    return { result: { ...where, status: 'failed', message: `no mapping reads topic ${testCase.topic} (mapped: ${run.mapping.topics.join(', ')})` } };
  }
  let payload: CasePayload;
  try {
    payload = await payloadOf(testCase);
  } catch (err) {
    return { result: { ...where, status: 'failed', message: `cannot read input_file: ${(err as Error).message}` } };
  }
  const actual = await runCaseEvent(run.mapping, run.config.target, testCase.topic, payload, run.config.schema_registry !== undefined);
  if (!testCase.expected) {
    if (run.update) return { result: { ...where, status: 'recorded' }, record: actual };
    const message = 'no expectation yet (updates, filtered or dead_letter): `test --update` records this outcome';
    return { result: { ...where, status: 'failed', message, diff: outcomeLines(actual) } };
  }
  const mismatch = compareOutcome(testCase.expected, actual);
  return { result: mismatch ? { ...where, status: 'failed', ...mismatch } : { ...where, status: 'passed' } };
}

/** Runs every case of one file, writing recorded outcomes back with `--update`. */
async function runFile(run: Run, file: string): Promise<CaseResult[]> {
  const read = await readTestFile(file);
  const results: CaseResult[] = read.problems.map((problem) => ({
    file: run.shown(file),
    ...(problem.line !== undefined && { line: problem.line, column: problem.column }),
    name: `${run.shown(file)} cannot be read`,
    status: 'failed',
    message: formatProblem({ ...problem, file: run.shown(file) }),
  }));
  // A file with problems runs nothing: its cases may be misread.
  if (results.length > 0) return results;
  const recorded: { index: number; outcome: CaseOutcome }[] = [];
  for (const testCase of read.cases) {
    const { result, record } = await runCase(run, testCase);
    results.push(result);
    if (record) recorded.push({ index: testCase.index, outcome: record });
  }
  if (recorded.length > 0) await writeTestFile(file, recordOutcomes(read.text, recorded));
  return results;
}

/**
 * Runs every case beside the configured mapping and prints the report on stdout. Returns the exit
 * code: 0 when every case passed (or was recorded), 1 when one failed, 2 when the config, the
 * mapping or the test files cannot be used.
 */
export async function runMappingTests(options: MappingTestOptions, output: MappingTestOutput = PROCESS_OUTPUT): Promise<number> {
  let config: Config;
  let mapping: CompiledMapping;
  let files: string[];
  try {
    config = await loadConfig(options.config);
    mapping = await loadConfiguredMapping(config);
    files = await findTestFiles(config.mapping_file);
  } catch (err) {
    output.err(`${err instanceof ConnectorError ? err.message : (err as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    output.err(`no test files (*.test.yaml) beside ${config.mapping_file}\n`);
    return 2;
  }
  const cwd = process.cwd();
  const run: Run = { mapping, config, update: options.update ?? false, shown: (file) => relative(cwd, file) || file };
  const results: CaseResult[] = [];
  for (const file of files) results.push(...(await runFile(run, file)));
  output.out(formatReport(results, options.reporter ?? 'pretty'));
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}
