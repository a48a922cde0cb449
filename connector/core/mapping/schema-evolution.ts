/**
 * Schema evolution before a deploy: how a mapping written against its reader schema fares with a
 * candidate writer schema (a new .avsc, or a version in the registry). It names the paths that no
 * longer resolve, the transforms whose input type changed under them, the enum symbols a `when`
 * or a `lookup` relies on that are gone, and whether the reader schema can still read the new
 * writer schema under Avro's resolution rules.
 */
import type { Type } from 'avsc';
import { avroTypeName } from '../avro-names.js';
import { canRead, firstConflict } from '../avro-resolution.js';
import type { SourceProblem } from '../errors.js';
import { resolvePathType } from './paths.js';
import { schemaProblems, type Location, type PathUse } from './static-check.js';
import { stringifyValue } from './stringify.js';
import { describeValueTypes, valueTypesOf, type ValueType } from './value-types.js';

/** What kind of break a problem is, so reports and tests can tell them apart. */
export type EvolutionKind = 'path-gone' | 'type-changed' | 'symbol-gone' | 'unreadable';

/** One way the candidate schema breaks the mapping, positioned where the mapping is written. */
export interface EvolutionProblem extends SourceProblem {
  kind: EvolutionKind;
}

/** The mapping of one topic and the schemas to compare. */
export interface EvolutionInput {
  /** The mapping file, named by problems that belong to no single path. */
  file: string;
  /** What the topic's mappings read (CompiledMapping.pathUses). */
  uses: readonly PathUse[];
  /** The candidate writer schema. */
  writer: Type;
  /** The mapping's reader schema, when it names one; without it events are read with the writer schema. */
  reader?: Type;
}

interface Resolved {
  /** What the path holds, unions flattened. */
  types: ValueType[];
  /** What the transforms and compared values apply to: the map's values for an `expand`. */
  subject: ValueType[];
}

/** The types at `use` in `type` (no subject when an expand finds no map), or why the path does not resolve. */
function resolveUse(type: Type, use: PathUse): Resolved | { error: string } {
  const resolved = resolvePathType(type, use.segments);
  if ('error' in resolved) return resolved;
  const types = resolved.types.flatMap(valueTypesOf);
  if (!use.mustBeMap) return { types, subject: types };
  const maps = resolved.types.filter((t) => t.typeName === 'map') as (Type & { valuesType: Type })[];
  return { types, subject: maps.flatMap((map) => valueTypesOf(map.valuesType)) };
}

/** The symbols of the types when every one is an enum, else undefined. */
function enumSymbols(types: readonly ValueType[]): Set<string> | undefined {
  if (types.length === 0 || !types.every((t) => t.kind === 'enum')) return undefined;
  return new Set(types.flatMap((t) => t.symbols ?? []));
}

function located(kind: EvolutionKind, where: Location, message: string): EvolutionProblem {
  return { ...where, kind, message };
}

/** How messages name what the transforms and conditions see: the path, or the values of an expanded map. */
function subjectName(use: PathUse): string {
  return use.mustBeMap ? `the values of ${use.text}` : use.text;
}

/** Whether what the transforms see became another kind of value (an int where a string was). */
function kindChanged(before: Resolved, now: Resolved): boolean {
  const kinds = (r: Resolved) => [...new Set(r.subject.map((t) => t.kind))].sort().join();
  return kinds(before) !== kinds(now);
}

/** `customer.age was a string, is now an int`. */
function change(use: PathUse, before: Resolved, now: Resolved): string {
  return `${subjectName(use)} was ${describeValueTypes(before.subject)}, is now ${describeValueTypes(now.subject)}`;
}

/** Values the use compares with enum symbols: its condition's values and the keys of a leading lookup. */
function symbolUses(use: PathUse): { text: string; where: Location; role: string }[] {
  const compared = (use.compared?.values ?? []).map(({ value, where }) => ({
    text: stringifyValue(value) ?? '',
    where,
    role: `the condition on ${use.text} (${use.compared?.operator ?? 'in'})`,
  }));
  const [first] = use.transforms;
  const keys = first?.name === 'lookup' ? (first.keys ?? []).map(({ key, where }) => ({ text: key, where, role: `the lookup on ${use.text}` })) : [];
  return [...compared, ...keys];
}

/** Symbols the use relies on that the new enum lacks (and, with a reader schema, the old one had). */
function symbolProblems(use: PathUse, before: Resolved | undefined, now: Resolved): EvolutionProblem[] {
  const symbols = enumSymbols(now.subject);
  if (!symbols) return [];
  const previous = before && enumSymbols(before.subject);
  const enumName = describeValueTypes(now.subject);
  const list = [...symbols].join(', ');
  return symbolUses(use)
    .filter(({ text }) => !symbols.has(text) && (previous === undefined || previous.has(text)))
    .map(({ text, where, role }) =>
      located(
        'symbol-gone',
        where,
        previous
          ? `enum symbol "${text}" is gone from ${enumName}, so ${role} can never match it; its symbols are now ${list}`
          : `${use.text} is ${enumName}, which has no symbol "${text}", so ${role} can never match it; its symbols are ${list}`,
      ),
    );
}

/**
 * Transforms that cannot take the new type, an expand that no longer finds a map, and condition
 * values that can no longer match a non-enum type (a boolean); enum symbols are symbolProblems'.
 * A transform chain that still takes a value of another kind is reported too: it produces
 * something else now (the hash of a number instead of an address), which a deploy should not
 * learn from the profiles.
 */
function typeProblems(use: PathUse, writer: Type, before: Resolved | undefined, now: Resolved): EvolutionProblem[] {
  const transforms = use.transforms.map(({ name, where }) => ({ name, where }));
  const checked: PathUse = { ...use, transforms, compared: enumSymbols(now.subject) ? undefined : use.compared };
  // An expand that finds no map has no values to compare: its message says what the path is.
  const changed = before !== undefined && now.subject.length > 0 && kindChanged(before, now);
  const rejected = schemaProblems([checked], writer).map(({ message, ...where }) =>
    located('type-changed', where, changed ? `${change(use, before, now)}: ${message}` : message),
  );
  if (rejected.length > 0 || !changed || transforms.length === 0) return rejected;
  const chain = transforms.map((t) => t.name).join(', ');
  const [first] = transforms as [(typeof transforms)[number]];
  return [located('type-changed', first.where, `${change(use, before, now)}; ${chain} still takes it, but now transforms another kind of value`)];
}

function pathProblems(use: PathUse, writer: Type, reader: Type | undefined): EvolutionProblem[] {
  const now = resolveUse(writer, use);
  if ('error' in now) {
    const verdict = reader ? 'no longer resolves in' : 'is not in';
    return [located('path-gone', use.where, `path ${use.text} ${verdict} schema ${avroTypeName(writer)}: ${now.error}`)];
  }
  const old = reader && resolveUse(reader, use);
  const before = old && 'types' in old ? old : undefined;
  return [...typeProblems(use, writer, before, now), ...symbolProblems(use, before, now)];
}

/** Whether the reader schema can read what the writer schema writes; the problem says where it cannot. */
function readProblems(file: string, reader: Type | undefined, writer: Type): EvolutionProblem[] {
  if (!reader || canRead(reader, writer)) return [];
  const conflict = firstConflict(reader, writer) ?? 'Avro schema resolution fails';
  const message = `the mapping's reader schema ${avroTypeName(reader)} cannot read events written with ${avroTypeName(writer)}: ${conflict}`;
  return [{ file, kind: 'unreadable', message }];
}

function byPosition(a: EvolutionProblem, b: EvolutionProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * Every way `writer` breaks the mapping of one topic, in file order: the reader/writer verdict
 * first, then each path that no longer resolves, each transform whose input changed type, each
 * enum symbol gone. Empty when the change is compatible with the mapping.
 */
export function evolutionProblems(input: EvolutionInput): EvolutionProblem[] {
  const { file, uses, writer, reader } = input;
  const problems = uses.flatMap((use) => pathProblems(use, writer, reader)).sort(byPosition);
  return [...readProblems(file, reader, writer), ...problems];
}
