/**
 * A sample event for any Avro schema, in the schema's JSON form (ISO timestamps, "12.34"
 * decimals), drawn from a seeded generator: one seed always gives the same event, so the test
 * case `init` writes is reproducible. Optional fields are filled, so the sample shows every path.
 */
import type { Type } from 'avsc';
import { seededRandom } from '../seeded-random.js';

interface Shape {
  typeName: string;
  symbols?: string[];
  fields?: { name: string; type: Shape }[];
  types?: Shape[];
  itemsType?: Shape;
  valuesType?: Shape;
  underlyingType?: Shape;
  precision?: number;
  scale?: number;
  size?: number;
}

const MAX_DEPTH = 12;
const BASE_TIME = Date.UTC(2026, 0, 5, 8, 0, 0);
const DAY_MS = 86_400_000;

/** A value of `type` for the field `name`, from `random`. */
function sample(shape: Shape, name: string, random: () => number, depth: number): unknown {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const { typeName } = shape;
  if (typeName.startsWith('union')) {
    const branch = (shape.types ?? []).find((t) => t.typeName !== 'null');
    return branch && depth < MAX_DEPTH ? sample(branch, name, random, depth + 1) : null;
  }
  switch (typeName) {
    case 'logical:timestamp-millis':
    case 'logical:timestamp-micros':
    case 'logical:local-timestamp-millis':
    case 'logical:local-timestamp-micros':
      return new Date(BASE_TIME + int(0, 30 * DAY_MS)).toISOString();
    case 'logical:date':
      return new Date(BASE_TIME - int(0, 20_000) * DAY_MS).toISOString().slice(0, 10);
    case 'logical:decimal': {
      const scale = shape.scale ?? 0;
      const digits = Math.max(1, Math.min((shape.precision ?? 6) - scale, 6));
      const whole = String(int(0, 10 ** digits - 1));
      return scale === 0 ? whole : `${whole}.${String(int(0, 10 ** Math.min(scale, 6) - 1)).padStart(Math.min(scale, 6), '0')}`;
    }
    case 'logical:uuid': {
      const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
    }
    case 'string':
      return /id$/i.test(name) ? `${name.replace(/_?id$/i, '').toUpperCase() || 'ID'}-${String(int(1, 999_999)).padStart(6, '0')}` : `${name} ${int(1, 99)}`;
    case 'int':
    case 'long':
      return int(0, 1000);
    case 'float':
    case 'double':
      return int(0, 100_000) / 100;
    case 'boolean':
      return random() < 0.5;
    case 'enum':
      return (shape.symbols ?? [])[int(0, (shape.symbols?.length ?? 1) - 1)];
    case 'record':
      return Object.fromEntries((shape.fields ?? []).map((f) => [f.name, depth < MAX_DEPTH ? sample(f.type, f.name, random, depth + 1) : null]));
    case 'array':
      return Array.from({ length: int(1, 2) }, () => sample(shape.itemsType as Shape, name, random, depth + 1));
    case 'map':
      return Object.fromEntries(Array.from({ length: int(1, 2) }, (_, i) => [`key${i + 1}`, sample(shape.valuesType as Shape, name, random, depth + 1)]));
    default:
      // bytes and fixed have no JSON form the decoder reads: a case needs an Avro input_file for them.
      return typeName.startsWith('logical:') && shape.underlyingType ? sample(shape.underlyingType, name, random, depth + 1) : null;
  }
}

/** A sample event of `type` in its JSON form; the same seed gives the same event. */
export function sampleValue(type: Type, seed: number): unknown {
  return sample(type as unknown as Shape, '', seededRandom(seed), 0);
}
