/**
 * Why values written with one Avro schema cannot be read with another, in the user's terms: the
 * first field where Avro schema resolution (avsc's `createResolver`) fails. The decoder explains
 * a failed read with it, and `check` a candidate schema version before it is deployed.
 */
import type { Type } from 'avsc';
import { avroTypeName, describeAvroType } from './avro-names.js';

/** The parts of avsc's Type classes schema resolution is explained with. */
interface RecordShape {
  typeName: string;
  name?: string;
  aliases?: string[];
  symbols?: string[];
  fields?: { name: string; aliases?: string[]; type: Type; defaultValue(): unknown }[];
}

/** Whether values written with `writer` can be read as `reader` under Avro's resolution rules. */
export function canRead(reader: Type, writer: Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

function branches(type: Type): Type[] {
  const shape = type as unknown as { typeName: string; types?: Type[] };
  return shape.typeName.startsWith('union') ? (shape.types ?? []) : [type];
}

/**
 * The first field where `writer` cannot be read as `reader`, descending into records and union
 * branches; undefined when avsc's resolution fails for a reason it does not tell apart.
 */
export function firstConflict(reader: Type, writer: Type, field = ''): string | undefined {
  const r = reader as unknown as RecordShape;
  const w = writer as unknown as RecordShape;
  const subject = field === '' ? 'the value' : `field ${field}`;
  if (r.typeName.startsWith('union') || w.typeName.startsWith('union')) {
    const readerBranches = branches(reader);
    for (const writerBranch of branches(writer)) {
      if (readerBranches.some((readerBranch) => canRead(readerBranch, writerBranch))) continue;
      const namesake = readerBranches.find((readerBranch) => avroTypeName(readerBranch) === avroTypeName(writerBranch));
      if (namesake) return firstConflict(namesake, writerBranch, field);
      return `${subject} can be ${describeAvroType(writerBranch)} in the writer schema, which its type in the reader schema (${describeAvroType(reader)}) cannot read`;
    }
  }
  const differ = `${subject} is ${describeAvroType(writer)} in the writer schema but ${describeAvroType(reader)} in the reader schema`;
  if (r.typeName !== w.typeName) return differ;
  const readerNames = [r.name, ...(r.aliases ?? [])];
  if (w.name !== undefined && !readerNames.includes(w.name)) return `${differ} (a named type must keep its name, or list the old one in aliases)`;
  if (r.typeName === 'enum') {
    const missing = (w.symbols ?? []).filter((symbol) => !(r.symbols ?? []).includes(symbol));
    if (missing.length > 0)
      return `${subject} can be ${missing.join(', ')} in the writer schema, which enum ${r.name ?? ''} of the reader schema does not have (and it has no default)`;
  }
  if (r.typeName !== 'record') return differ;
  for (const readerField of r.fields ?? []) {
    const path = field === '' ? readerField.name : `${field}.${readerField.name}`;
    const names = [readerField.name, ...(readerField.aliases ?? [])];
    const writerField = (w.fields ?? []).find((f) => names.includes(f.name));
    if (!writerField) {
      if (readerField.defaultValue() === undefined) return `field ${path} is not in the writer schema and has no default in the reader schema`;
      continue;
    }
    if (!canRead(readerField.type, writerField.type)) return firstConflict(readerField.type, writerField.type, path);
  }
  return undefined;
}
