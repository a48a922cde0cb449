/**
 * A last line of defence for output that embeds third-party error text (kafkajs, undici): every
 * secret value of the config is masked wherever it appears, whatever produced the text.
 */
import { REDACTED } from './redact.js';
import { loadSpec, type JsonSchema } from './spec.js';
import type { Config } from '../../core/config.js';

// Masking a very short secret would garble unrelated words; such a secret is not a real one anyway.
const MIN_MASKED_LENGTH = 4;

function collect(value: unknown, schema: JsonSchema | undefined, into: string[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schema?.properties?.[key];
    if (childSchema?.airbyte_secret && typeof child === 'string') into.push(child);
    else collect(child, childSchema, into);
  }
}

/** The values of every field the spec marks airbyte_secret, plus a password in the registry URL. */
export function secretValues(config: Config, schema: JsonSchema = loadSpec().connectionSpecification): string[] {
  const secrets: string[] = [];
  collect(config, schema, secrets);
  if (config.schema_registry) {
    const password = new URL(config.schema_registry.url).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  return secrets.filter((s) => s.length >= MIN_MASKED_LENGTH);
}

/** `text` with every occurrence of every secret replaced by the redaction mask. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join(REDACTED), text);
}
