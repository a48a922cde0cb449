/**
 * The static check against a topic's Avro schema: every path a mapping reads exists, every
 * transform of a chain accepts what the step before it produces, and every value a condition
 * compares an enum or boolean with can match.
 */
import type { Type } from 'avsc';
import type { SourceProblem } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { resolvePathType, type Segment } from './paths.js';
import { stringifyValue } from './stringify.js';
import { transformSignature } from './transform-types.js';
import { describeValueTypes, valueTypesOf, type ValueType } from './value-types.js';

/** Where something is written in the mapping file. */
export type Location = Omit<SourceProblem, 'message'>;

/** One transform of a chain, as the check sees it. */
export interface TransformUse {
  /** `lowercase`, or the key of a one-key transform (`round` for `{round: 2}`). */
  name: string;
  where: Location;
  /** The keys of a `lookup` table, each with where it is written. */
  keys?: { key: string; where: Location }[];
}

/** The values an `in`, `not_in` or `equals` condition compares the path with. */
export interface ComparedValues {
  operator: 'in' | 'not_in' | 'equals';
  values: { value: unknown; where: Location }[];
}

/** A path a mapping reads, with where it is written and what is done with its value. */
export interface PathUse {
  text: string;
  segments: Segment[];
  where: Location;
  /** `expand` paths must lead to a map; their transforms apply to each of its values. */
  mustBeMap: boolean;
  /** The transforms applied to the value, in order (empty when there are none). */
  transforms: readonly TransformUse[];
  /** For a condition: the values it compares with. */
  compared?: ComparedValues;
}

function problem(where: Location, message: string): SourceProblem {
  return { ...where, message };
}

/** The symbols every branch has in common when all branches are enums, else undefined. */
function enumSymbols(types: readonly ValueType[]): Set<string> | undefined {
  if (types.length === 0 || !types.every((t) => t.kind === 'enum')) return undefined;
  return new Set(types.flatMap((t) => t.symbols ?? []));
}

function symbolProblem(subject: string, types: readonly ValueType[], symbols: Set<string>, text: string): string {
  const list = [...symbols].join(', ');
  return `${subject} is ${describeValueTypes(types)}, which has no symbol "${text}"${didYouMean(text, symbols)}; its symbols are ${list}`;
}

/** Problems of a condition's values: symbols an enum does not have, text a boolean never is. */
function comparedProblems(use: PathUse, compared: ComparedValues, types: readonly ValueType[]): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const symbols = enumSymbols(types);
  const isBoolean = types.length > 0 && types.every((t) => t.kind === 'boolean');
  for (const { value, where } of compared.values) {
    const text = stringifyValue(value) ?? '';
    if (symbols && !symbols.has(text)) problems.push(problem(where, symbolProblem(use.text, types, symbols, text)));
    if (isBoolean && text !== 'true' && text !== 'false') {
      problems.push(problem(where, `${use.text} is a boolean, so "${text}" never matches (compare with true or false)`));
    }
  }
  return problems;
}

/** Follows the value through the chain; stops at the first transform that cannot take it. */
function chainProblems(use: PathUse, start: readonly ValueType[]): SourceProblem[] {
  let current = start;
  let previous: string | undefined;
  for (const step of use.transforms) {
    const signature = transformSignature(step.name);
    // An empty type list is a path that is always null: nothing reaches the transforms.
    if (!signature || current.length === 0) return [];
    const fitting = current.filter((t) => signature.accepts.has(t.kind));
    if (fitting.length === 0) {
      const subject = previous === undefined ? `${use.text} is` : `after ${previous} the value is`;
      return [problem(step.where, `${step.name} needs ${signature.needs}, but ${subject} ${describeValueTypes(current)}`)];
    }
    const symbols = step.name === 'lookup' ? enumSymbols(fitting) : undefined;
    if (symbols && step.keys) {
      const problems = step.keys
        .filter(({ key }) => !symbols.has(key))
        .map(({ key, where }) => problem(where, `lookup key "${key}" can never match: ${symbolProblem(use.text, fitting, symbols, key)}`));
      if (problems.length > 0) return problems;
    }
    current = [signature.produces];
    previous = step.name;
  }
  return [];
}

/**
 * Every way `uses` do not fit `type`: a path it does not have, an expand path that is not a map,
 * a transform that cannot take its input, a condition value that can never match.
 */
export function schemaProblems(uses: readonly PathUse[], type: Type): SourceProblem[] {
  const schemaName = type.name ?? type.typeName;
  const problems: SourceProblem[] = [];
  for (const use of uses) {
    const resolved = resolvePathType(type, use.segments);
    if ('error' in resolved) {
      problems.push(problem(use.where, `path ${use.text} is not in schema ${schemaName}: ${resolved.error}`));
      continue;
    }
    let types = resolved.types.flatMap(valueTypesOf);
    if (use.mustBeMap) {
      const maps = resolved.types.filter((t) => t.typeName === 'map') as (Type & { valuesType: Type })[];
      if (maps.length === 0) {
        problems.push(problem(use.where, `expand needs a map, but ${use.text} is ${describeValueTypes(types)} in schema ${schemaName}`));
        continue;
      }
      types = maps.flatMap((map) => valueTypesOf(map.valuesType));
    }
    problems.push(...chainProblems(use, types));
    if (use.compared) problems.push(...comparedProblems(use, use.compared, types));
  }
  return problems;
}
