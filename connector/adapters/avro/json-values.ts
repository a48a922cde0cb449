/**
 * Turns JSON data (an Airbyte RECORD's, a preview event's) into the decoded-values contract
 * (`core/values.ts`) that the mapping reads. Encoding to Avro and decoding back does it with the very logical types `run`
 * decodes with, which accept JSON-friendly input (ISO timestamps, "12.34" decimals, ...); a record
 * that does not encode does not fit the topic's schema.
 */
import type { Type } from 'avsc';
import { describeAvroType } from '../../core/avro-names.js';
import { DecodeError } from '../../core/errors.js';
import type { PayloadDecoder } from '../../core/pipeline/pipeline.js';

/** The decoded value, or why the data does not fit the schema. */
export type DecodedRecord = { ok: true; value: unknown } | { ok: false; reason: string };

// Enough of a bad value to recognise it; a whole nested object would flood the log line.
const MAX_SHOWN = 80;

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** Converts `data` with `type` (encode, then decode), naming every field that does not fit and the type it needs. */
export function toDecodedValue(type: Type, data: unknown): DecodedRecord {
  const bad: string[] = [];
  const valid = type.isValid(data, {
    errorHook: (path: string[], value: unknown, expected: Type) =>
      bad.push(`${path.join('.') || 'value'} = ${show(value)} (expected ${describeAvroType(expected)})`),
  });
  const schemaName = type.name ?? type.typeName;
  if (!valid) return { ok: false, reason: `does not match schema ${schemaName}: invalid ${bad.join(', ')}` };
  try {
    return { ok: true, value: type.fromBuffer(type.toBuffer(data)) };
  } catch (err) {
    // isValid and encoding agree for the connector's types; this keeps a surprise from ending the run.
    return { ok: false, reason: `does not encode with schema ${schemaName}: ${(err as Error).message}` };
  }
}

/**
 * A pipeline decoder for payloads holding JSON data: each is checked against and read with its
 * stream's Avro schema; a stream without a schema, or data that does not fit, cannot be decoded.
 */
export function jsonPayloadDecoder(schemas: ReadonlyMap<string, Type>, noSchema: (stream: string) => string): PayloadDecoder {
  return {
    decode(stream, payload, origin) {
      const type = schemas.get(stream);
      if (!type) throw new DecodeError(origin, noSchema(stream));
      let data: unknown;
      try {
        data = JSON.parse(Buffer.from(payload).toString('utf8'));
      } catch (err) {
        throw new DecodeError(origin, `not JSON: ${(err as Error).message}`);
      }
      const decoded = toDecodedValue(type, data);
      if (!decoded.ok) throw new DecodeError(origin, decoded.reason);
      return decoded.value;
    },
  };
}
