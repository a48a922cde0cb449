/**
 * Untyped access to parsed deployment files (docker-compose.yml, Kubernetes manifests, spec.json):
 * each accessor narrows one value and, when the file has something else there, fails naming the
 * place it looked, so a packaging test that breaks says which key of which file is wrong.
 */

/** A parsed YAML or JSON mapping. */
export type Json = Record<string, unknown>;

/** `value` as a mapping; throws naming `what` otherwise. */
export function asMapping(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: expected a mapping`);
  return value as Json;
}

/** `value` as a list; throws naming `what` otherwise. */
export function asList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list`);
  return value;
}

/** `value` as a string, numbers included (YAML reads `port: 8080` as a number); throws naming `what` otherwise. */
export function asText(value: unknown, what: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${what}: expected a string`);
  return String(value);
}
