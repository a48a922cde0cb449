/** Reads an `.avsc` file into an avsc Type that follows the decoded-values contract. */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import { MappingError } from '../../core/errors.js';
import { parseAvroSchema } from '../../core/avro-types.js';

/**
 * Loads a local Avro schema (reader schema of a mapping). Throws MappingError naming the file,
 * because a schema file is part of a mapping's definition.
 */
export async function loadAvroSchema(path: string): Promise<Type> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MappingError([{ file: path, message: `cannot read Avro schema: ${(err as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MappingError([{ file: path, message: `not valid JSON: ${(err as Error).message}` }]);
  }
  try {
    return parseAvroSchema(json);
  } catch (err) {
    throw new MappingError([{ file: path, message: `not a valid Avro schema: ${(err as Error).message}` }]);
  }
}
