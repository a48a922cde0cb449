/**
 * Turns a RECORD's JSON `data` into the decoded-values contract (`decode/values.ts`) that the
 * mapping reads. Encoding to Avro and decoding back does it with the very logical types `run`
 * decodes with, which accept JSON-friendly input (ISO timestamps, "12.34" decimals, ...); a record
 * that does not encode does not fit the topic's schema.
 */
import type { Type } from 'avsc';

/** The decoded value, or why the data does not fit the schema. */
export type DecodedRecord = { ok: true; value: unknown } | { ok: false; reason: string };

// Enough of a bad value to recognise it; a whole nested object would flood the log line.
const MAX_SHOWN = 80;

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** Converts `data` with `type` (encode, then decode), naming every field that does not fit. */
export function toDecodedValue(type: Type, data: unknown): DecodedRecord {
  const bad: string[] = [];
  const valid = type.isValid(data, {
    errorHook: (path: string[], value: unknown) => bad.push(`${path.join('.') || 'value'} = ${show(value)}`),
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
