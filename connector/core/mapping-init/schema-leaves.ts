/**
 * Every leaf path of an Avro schema as a mapping would name it (`customer.address.city`,
 * `lineItems[0].sku`), seen through nullable unions, with its type and doc: what `init` lists.
 */
import type { Type } from 'avsc';
import { avroTypeName } from '../avro-names.js';

/** How a leaf can be used: an attribute, the `expand` of a map, or only listed (lists, bytes, mixed unions). */
export type LeafUse = 'attribute' | 'expand' | 'listed';

export interface SchemaLeaf {
  path: string;
  /** Its type as the comment shows it: `string`, `enum LoyaltyTier (BRONZE, SILVER)`, `timestamp-millis`. */
  typeText: string;
  doc?: string;
  /** The schema lets it be null or absent. */
  optional: boolean;
  /** Under a list item (`[0]`): it names the first item only. */
  inList: boolean;
  use: LeafUse;
  /** The non-null type. */
  type: Type;
}

/** The parts of avsc's Type classes the walk reads. */
interface Shape {
  typeName: string;
  name?: string;
  doc?: string;
  symbols?: string[];
  fields?: { name: string; type: Shape; doc?: string }[];
  types?: Shape[];
  itemsType?: Shape;
  valuesType?: Shape;
}

/** Record types nested deeper than this are listed, not walked (recursive schemas). */
const MAX_DEPTH = 12;

const SCALARS = new Set(['string', 'int', 'long', 'float', 'double', 'boolean', 'enum']);

function typeText(shape: Shape): string {
  const name = avroTypeName(shape as unknown as Type);
  if (shape.typeName === 'enum') return `enum ${name} (${(shape.symbols ?? []).join(', ')})`;
  if (shape.typeName === 'array') return `array of ${typeText(shape.itemsType as Shape)}`;
  if (shape.typeName === 'map') return `map of ${typeText(shape.valuesType as Shape)}`;
  return name;
}

/** True for types a path can turn into one attribute value. */
export function isScalar(type: Type): boolean {
  const shape = type as unknown as Shape;
  return SCALARS.has(shape.typeName) || (shape.typeName.startsWith('logical:') && shape.typeName !== 'logical:fixed');
}

function nonNull(shape: Shape): { shape: Shape; optional: boolean } {
  if (!shape.typeName.startsWith('union')) return { shape, optional: false };
  const branches = (shape.types ?? []).filter((t) => t.typeName !== 'null');
  const optional = branches.length < (shape.types ?? []).length;
  return branches.length === 1 ? { shape: branches[0] as Shape, optional } : { shape, optional };
}

/** The leaves of `type`, in schema order. */
export function schemaLeaves(type: Type): SchemaLeaf[] {
  const leaves: SchemaLeaf[] = [];
  function walk(raw: Shape, path: string, doc: string | undefined, optional: boolean, inList: boolean, depth: number): void {
    const { shape, optional: nullable } = nonNull(raw);
    const leaf = { path, ...(doc !== undefined && { doc }), optional: optional || nullable, inList, type: shape as unknown as Type, typeText: typeText(shape) };
    if (shape.typeName === 'record' && depth < MAX_DEPTH) {
      for (const field of shape.fields ?? []) {
        walk(field.type, path === '' ? field.name : `${path}.${field.name}`, field.doc, leaf.optional, inList, depth + 1);
      }
      return;
    }
    if (shape.typeName === 'array' && depth < MAX_DEPTH) return walk(shape.itemsType as Shape, `${path}[0]`, doc, true, true, depth + 1);
    let use: LeafUse = 'listed';
    if (isScalar(shape as unknown as Type)) use = inList ? 'listed' : 'attribute';
    else if (shape.typeName === 'map' && !inList && isScalar(nonNull(shape.valuesType as Shape).shape as unknown as Type)) use = 'expand';
    leaves.push({ ...leaf, use });
  }
  walk(type as unknown as Shape, '', undefined, false, false, 0);
  return leaves;
}
