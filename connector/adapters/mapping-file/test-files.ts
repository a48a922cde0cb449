/**
 * The mapping test files beside a mapping: every `*.test.yaml` in the mapping file's folder, read
 * into cases, and written back after `test --update`.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseCaseFile, type CaseFile } from '../../core/mapping-tests/cases.js';

/** How test files are named: `<anything>.test.yaml` (or `.test.yml`) in the mapping's folder. */
export const TEST_FILE = /\.test\.ya?ml$/;

/** The test files beside `mappingFile`, sorted by name. */
export async function findTestFiles(mappingFile: string): Promise<string[]> {
  const folder = dirname(mappingFile);
  const names = await readdir(folder);
  return names
    .filter((name) => TEST_FILE.test(name))
    .sort()
    .map((name) => join(folder, name));
}

/** A test file's text and its cases; a file that cannot be read is one problem. */
export async function readTestFile(file: string): Promise<CaseFile & { text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file, text: '', cases: [], problems: [{ file, message: `cannot read test file: ${(err as Error).message}` }] };
  }
  return { ...parseCaseFile(file, text), text };
}

/** The bytes of a case's `input_file`, a path relative to its test file. */
export function readInputFile(testFile: string, path: string): Promise<Buffer> {
  return readFile(resolve(dirname(testFile), path));
}

/** Writes a test file's new text (after `--update`). */
export function writeTestFile(file: string, text: string): Promise<void> {
  return writeFile(file, text);
}
