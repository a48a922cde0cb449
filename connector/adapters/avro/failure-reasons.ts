/**
 * Why a message value could not be decoded, in the user's terms: JSON where Avro was expected,
 * framing that does not match the config, the field and byte where the bytes stop fitting the
 * schema, or the field where writer and reader schemas disagree. Only the failure path calls it.
 */
import type { Type } from 'avsc';
import { avroTypeName } from '../../core/avro-names.js';
import { findMismatch } from './avro-mismatch.js';
import { firstConflict } from '../../core/avro-resolution.js';

/** Bytes of the Confluent framing: magic byte 0 and a 4-byte big-endian schema id. */
export const FRAMING_BYTES = 5;
const FRAMING = 'the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects';

function decodes(type: Type, bytes: Buffer): boolean {
  try {
    type.fromBuffer(bytes);
    return true;
  } catch {
    return false;
  }
}

/** True when the value is JSON text (an object or array), the usual mix-up with Avro. */
function isJson(bytes: Buffer): boolean {
  const text = bytes.toString('utf8').trim();
  if (!/^[{[]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The schema id of a plausible Confluent header, else undefined. */
function framedId(bytes: Buffer): number | undefined {
  if (bytes.length < FRAMING_BYTES || bytes[0] !== 0) return undefined;
  const id = bytes.readInt32BE(1);
  return id > 0 ? id : undefined;
}

/** Why `bytes` are not a value of `type`; `schema` names it, `base` is where the bytes start in the value. */
function mismatchReason(type: Type, bytes: Buffer, base: number, schema: string): string {
  const mismatch = findMismatch(type, bytes, base);
  if (mismatch === undefined) return `the bytes are not a value of ${schema}`;
  if (mismatch.kind === 'invalid') return `not Avro for ${schema}: ${mismatch.detail}`;
  const what = (type as unknown as { typeName: string }).typeName === 'record' ? 'record' : 'value';
  const bytesLeft = mismatch.extra === 1 ? '1 byte' : `${mismatch.extra} bytes`;
  return `${bytesLeft} left after the ${what}: the value was not written with ${schema}`;
}

/** Why a plain Avro value (no schema_registry configured) does not decode with the topic's reader schema. */
export function plainFailure(reader: Type, bytes: Buffer): string {
  const schema = `schema ${avroTypeName(reader)}`;
  if (isJson(bytes)) return `value is JSON, not Avro: ${schema} needs the Avro binary encoding`;
  const id = framedId(bytes);
  if (id !== undefined && decodes(reader, bytes.subarray(FRAMING_BYTES))) {
    return `value looks Confluent-framed (magic byte 0, schema id ${id}) but no schema_registry is configured`;
  }
  const reason = mismatchReason(reader, bytes, 0, schema);
  return id === undefined ? reason : `${reason}; it may be Confluent-framed (magic byte 0, schema id ${id}), which needs schema_registry`;
}

/** Why a Confluent-framed value does not decode with its writer schema (registered under `id`). */
export function framedFailure(writer: Type, id: number, payload: Buffer): string {
  return mismatchReason(writer, payload, FRAMING_BYTES, `writer schema ${avroTypeName(writer)} (schema id ${id})`);
}

/** Why a value without the Confluent framing cannot be read while schema_registry is configured. */
export function unframedFailure(bytes: Buffer, reader: Type | undefined): string {
  if (bytes.length === 0) return `value is empty, without ${FRAMING}`;
  if (isJson(bytes)) return `value is JSON, not Avro with ${FRAMING}`;
  if (reader && decodes(reader, bytes)) return `value is plain Avro of schema ${avroTypeName(reader)}, without ${FRAMING}`;
  if (bytes.length < FRAMING_BYTES && bytes[0] === 0) return `value has only ${bytes.length} bytes, too few for ${FRAMING}`;
  return `value starts with byte 0x${(bytes[0] as number).toString(16).padStart(2, '0')}, not ${FRAMING}`;
}

/** Why a framed value names a schema id the registry does not have; `registryReason` is the registry's answer. */
export function unknownIdFailure(bytes: Buffer, id: number, reader: Type | undefined, registryReason: string): string {
  // Plain Avro whose first byte happens to be 0 reads as a framing header with a made-up id.
  if (reader && decodes(reader, bytes)) {
    return `value is plain Avro of schema ${avroTypeName(reader)}, without ${FRAMING} (its first bytes read as schema id ${id}, which the registry does not have)`;
  }
  return `unknown writer schema id ${id}: ${registryReason}`;
}

/** Why values written with `writer` (schema id `id`) cannot be read with the mapping's reader schema. */
export function incompatibleFailure(reader: Type, writer: Type, id: number): string {
  const conflict = firstConflict(reader, writer);
  const schemas = `writer schema ${avroTypeName(writer)} (schema id ${id}) cannot be read with the mapping's reader schema ${avroTypeName(reader)}`;
  return conflict === undefined ? `${schemas} (Avro schema resolution fails)` : `${schemas}: ${conflict}`;
}
