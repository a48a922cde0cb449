/**
 * Catalogs both ways: the CATALOG `discover` offers (a stream per mapped topic) and the
 * configured catalog `write` is given (which streams will arrive, checked against the mapping).
 */
import type { Type } from 'avsc';
import { ConfigError } from '../../core/errors.js';
import { avroToJsonSchema } from './json-schema.js';
import { SYNC_MODES, type AirbyteStream } from './messages.js';

/** The stream `discover` offers for a topic with Avro schema `type`. */
export function catalogStream(topic: string, type: Type): AirbyteStream {
  return { name: topic, json_schema: avroToJsonSchema(type), supported_sync_modes: [...SYNC_MODES] };
}

/**
 * The stream names of a ConfiguredAirbyteCatalog (`{"streams":[{"stream":{"name":...}}, ...]}`).
 * Throws a ConfigError naming `file` for malformed JSON, a bad shape, or a stream that is not
 * one of the mapping's `topics` (listing the valid ones).
 */
export function configuredStreams(text: string, file: string, topics: readonly string[]): string[] {
  const problem = (message: string) => new ConfigError([{ file, message }]);
  let catalog: unknown;
  try {
    catalog = JSON.parse(text);
  } catch (err) {
    throw problem(`not a JSON catalog: ${(err as Error).message}`);
  }
  const streams = (catalog as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams) || streams.length === 0) {
    throw problem('expected a configured catalog {"streams": [{"stream": {"name": "<topic>", ...}, ...}]} with at least one stream');
  }
  const names: string[] = [];
  const problems: string[] = [];
  streams.forEach((entry: unknown, i) => {
    const name = (entry as { stream?: { name?: unknown } } | null)?.stream?.name;
    if (typeof name !== 'string') problems.push(`streams[${i}].stream.name must be a string`);
    else if (!topics.includes(name)) problems.push(`streams[${i}]: "${name}" is not a mapped topic`);
    else names.push(name);
  });
  if (problems.length > 0) {
    throw new ConfigError([...problems.map((message) => ({ file, message })), { file, message: `valid streams (the mapping's topics): ${topics.join(', ')}` }]);
  }
  return names;
}
