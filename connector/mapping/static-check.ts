/** The static check: every path a mapping reads exists in the topic's Avro schema. */
import type { Type } from 'avsc';
import type { SourceProblem } from '../errors.js';
import { resolvePathType, type Segment } from './paths.js';

/** A path a mapping reads, with where it is written. */
export interface PathUse {
  text: string;
  segments: Segment[];
  where: Omit<SourceProblem, 'message'>;
  /** `expand` paths must lead to a map. */
  mustBeMap: boolean;
}

/** One problem per path that `type` does not have (or, for expand, that is not a map). */
export function pathProblems(uses: readonly PathUse[], type: Type): SourceProblem[] {
  const schemaName = type.name ?? type.typeName;
  const problems: SourceProblem[] = [];
  for (const use of uses) {
    const resolved = resolvePathType(type, use.segments);
    if ('error' in resolved) {
      problems.push({ ...use.where, message: `path ${use.text} is not in schema ${schemaName}: ${resolved.error}` });
    } else if (use.mustBeMap && resolved.type.typeName !== 'map') {
      problems.push({ ...use.where, message: `expand needs a map, but ${use.text} is a ${resolved.type.typeName} in schema ${schemaName}` });
    }
  }
  return problems;
}
