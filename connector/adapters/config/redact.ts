/** A copy of a config safe to log or print: every value the spec marks airbyte_secret is masked. */
import { loadSpec, type JsonSchema } from './spec.js';

/** What a secret reads as once redacted; the logger uses the same mask. */
export const REDACTED = '***';

function redact(value: unknown, schema: JsonSchema | undefined): unknown {
  if (schema?.airbyte_secret) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, schema?.items));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, redact(child, schema?.properties?.[key])]));
  }
  return value;
}

/** The config (or any part of a config file's data) with its secrets replaced by `***`. */
export function redactConfig(config: unknown, schema: JsonSchema = loadSpec().connectionSpecification): unknown {
  return redact(config, schema);
}
