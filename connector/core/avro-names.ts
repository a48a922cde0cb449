/** How messages name Avro types: in the words of the schema, never avsc's class names. */
import type { Type } from 'avsc';

/** The parts of avsc's Type classes that naming reads. */
interface Named {
  typeName: string;
  name?: string;
  types?: Named[];
  underlyingType?: Named;
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** The short name of a type: its full name when it has one, else `string`, `timestamp-millis`... */
export function avroTypeName(type: Type): string {
  const shape = type as unknown as Named;
  if (shape.name !== undefined) return shape.name;
  if (shape.typeName.startsWith('logical:')) return shape.typeName.slice('logical:'.length);
  if (shape.typeName.startsWith('union')) return `union (${(shape.types ?? []).map((t) => avroTypeName(t as unknown as Type)).join(', ')})`;
  return shape.typeName;
}

/** A type with its article: `a string`, `an enum com.acme.Tier`, `a timestamp-millis (long)`, `bytes`. */
export function describeAvroType(type: Type): string {
  const shape = type as unknown as Named;
  const { typeName, name } = shape;
  if (typeName.startsWith('logical:')) {
    const underlying = shape.underlyingType?.typeName ?? '';
    return `${article(typeName.slice('logical:'.length))} (${underlying})`;
  }
  if (typeName.startsWith('union')) return `a ${avroTypeName(type)}`;
  if (typeName === 'null' || typeName === 'bytes') return typeName;
  return article(name === undefined ? typeName : `${typeName} ${name}`);
}
