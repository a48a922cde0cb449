/** The connector's spec.json: its location, its shape, and what it says about secrets. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The subset of JSON Schema draft-07 (plus Airbyte's `airbyte_secret`) that spec.json uses. */
export interface JsonSchema {
  $schema?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  airbyte_secret?: boolean;
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** The Airbyte connector specification. */
export interface ConnectorSpec {
  documentationUrl: string;
  connectionSpecification: JsonSchema;
  supportsIncremental: boolean;
  supported_destination_sync_modes: string[];
}

/**
 * The package root is the first folder above this module holding package.json; walking up keeps
 * one answer for the sources run by tsx (connector/config) and the build (dist/connector/config).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('spec.json: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** Absolute path of spec.json in the installed package. */
export const SPEC_PATH = join(packageRoot(), 'spec.json');

let cached: ConnectorSpec | undefined;

/** Reads spec.json once; later calls return the same object, so callers must not mutate it. */
export function loadSpec(): ConnectorSpec {
  cached ??= JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as ConnectorSpec;
  return cached;
}

/** Names of every key the spec marks `airbyte_secret`, e.g. `password`, `token`. */
export function secretKeyNames(schema: JsonSchema): string[] {
  const names = new Set<string>();
  const visit = (s: JsonSchema): void => {
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      if (child.airbyte_secret) names.add(name);
      visit(child);
    }
    if (s.items) visit(s.items);
  };
  visit(schema);
  return [...names];
}
