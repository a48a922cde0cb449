/** `when` conditions, compiled into checks that return why an event is filtered out. */
import type { Getter } from './paths.js';
import { stringifyValue } from './stringify.js';

/** A condition as written in YAML (already validated: exactly one operator). */
export interface ConditionSpec {
  path: string;
  in?: unknown[];
  not_in?: unknown[];
  equals?: unknown;
  exists?: boolean;
}

/** Returns undefined when the condition holds, otherwise the reason the event is filtered. */
export type Check = (root: unknown) => string | undefined;

function textSet(values: readonly unknown[]): Set<string> {
  return new Set(values.map((v) => stringifyValue(v) ?? ''));
}

function listText(values: readonly unknown[]): string {
  return `[${values.map((v) => stringifyValue(v)).join(', ')}]`;
}

/** Compiles one condition; values compare by their attribute text, so `equals: 5` matches an int 5. */
export function compileCondition(spec: ConditionSpec, get: Getter): Check {
  const { path } = spec;
  if (spec.in !== undefined) {
    const allowed = textSet(spec.in);
    const list = listText(spec.in);
    return (root) => {
      const text = stringifyValue(get(root));
      if (text !== undefined && allowed.has(text)) return undefined;
      return `${path} is ${text === undefined ? 'missing' : `"${text}"`}, not in ${list}`;
    };
  }
  if (spec.not_in !== undefined) {
    const excluded = textSet(spec.not_in);
    const list = listText(spec.not_in);
    return (root) => {
      const text = stringifyValue(get(root));
      return text !== undefined && excluded.has(text) ? `${path} is "${text}", excluded by not_in ${list}` : undefined;
    };
  }
  if (spec.equals !== undefined) {
    const expected = stringifyValue(spec.equals);
    return (root) => {
      const text = stringifyValue(get(root));
      if (text === expected) return undefined;
      return `${path} is ${text === undefined ? 'missing' : `"${text}"`}, not "${expected}"`;
    };
  }
  const mustExist = spec.exists === true;
  return (root) => {
    const value = get(root);
    const present = value !== undefined && value !== null;
    if (present === mustExist) return undefined;
    return mustExist ? `${path} is missing` : `${path} is present`;
  };
}
