/**
 * An entry's attributes compiled into straight-line code at load, the way avsc compiles its
 * readers: each path read, transform call and attribute store is written out with its key as a
 * literal, so every one gets its own inline cache instead of sharing a generic writer's
 * megamorphic ones. The generated source holds only JSON-quoted names, integer indices and
 * numbered references to closures made at load, never text from events.
 */
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../target-api/limits.js';
import { readPathSource, type Segment } from './paths.js';
import { stringifyValue } from './stringify.js';
import type { Step } from './transforms.js';

/** Writes one event's attributes into `out`; throws UnmappableEventError for an unmappable value. */
export type Writer = (root: unknown, out: Record<string, string>) => void;

/** Applies the long-values policy to a text over 256 characters, for the attribute `name`. */
export type Limit = (text: string, name: string) => string;

/** The error to throw for `err`, thrown by a transform of `subject` (`attribute email`). */
export type Naming = (err: unknown, subject: string) => unknown;

/** One attribute (or a writer of several) in the order the entry writes them. */
export type AttributePlan =
  /** A path, its transforms (run in order, stopping at a missing value) and `default` text. */
  | { kind: 'path'; name: string; segments: readonly Segment[]; steps: readonly Step[]; fallback?: string }
  | { kind: 'constant'; name: string; text: string }
  /** Attributes whose names come from the event (`expand`): a writer of its own. */
  | { kind: 'writer'; write: Writer };

/** Attributes per generated function: big enough to cover most mappings, small enough to be optimised. */
const PLANS_PER_FUNCTION = 32;

/** JavaScript statements writing one plan's attribute; `ref` registers a closure and names it. */
function planSource(plan: AttributePlan, ref: (value: unknown) => string): string {
  if (plan.kind === 'writer') return `${ref(plan.write)}(root, out);`;
  const key = JSON.stringify(plan.name);
  const store = (text: string) => `out[${key}] = ${text}.length > ${MAX_ATTRIBUTE_VALUE_LENGTH} ? limit(${text}, ${key}) : ${text};`;
  if (plan.kind === 'constant') return store(ref(plan.text));
  const lines = [readPathSource(plan.segments, 'root', 'value')];
  if (plan.steps.length > 0) {
    // As a composed chain: each step runs on a present value; a missing one ends the chain.
    const steps = plan.steps.map((step) => `if (value !== undefined && value !== null) value = ${ref(step)}(value);`);
    lines.push(`try { ${steps.join(' ')} } catch (err) { throw naming(err, ${JSON.stringify(`attribute ${plan.name}`)}); }`);
  }
  lines.push(`text = typeof value === 'string' ? value : stringifyValue(value);`);
  if (plan.fallback === undefined) lines.push(`if (text !== undefined && text !== '') ${store('text')}`);
  else lines.push(`if (text === undefined || text === '') text = ${ref(plan.fallback)};`, store('text'));
  return lines.join('\n  ');
}

/** One generated function writing `plans` in order. */
function generate(plans: readonly AttributePlan[], limit: Limit, naming: Naming): Writer {
  const refs: unknown[] = [];
  const ref = (value: unknown) => `r${refs.push(value) - 1}`;
  const body = plans.map((plan) => planSource(plan, ref)).join('\n  ');
  const bindings = refs.map((_, i) => `const r${i} = refs[${i}];`).join(' ');
  const source = `'use strict'; ${bindings}
return function writeAttributes(root, out) {
  let value, text;
  ${body}
};`;
  const factory = new Function('refs', 'stringifyValue', 'limit', 'naming', 'hasOwn', source) as (
    refs: unknown[],
    stringify: typeof stringifyValue,
    limit: Limit,
    naming: Naming,
    hasOwn: typeof Object.hasOwn,
  ) => Writer;
  return factory(refs, stringifyValue, limit, naming, Object.hasOwn);
}

/**
 * Compiles the plans into one writer. A missing, null or empty value omits its attribute unless
 * the plan has a fallback; a later plan overwrites an earlier one of the same name.
 */
export function compileAttributeWriter(plans: readonly AttributePlan[], limit: Limit, naming: Naming): Writer {
  const parts: Writer[] = [];
  for (let start = 0; start < plans.length; start += PLANS_PER_FUNCTION) parts.push(generate(plans.slice(start, start + PLANS_PER_FUNCTION), limit, naming));
  const [only] = parts;
  if (parts.length === 1 && only) return only;
  return (root, out) => {
    for (const part of parts) part(root, out);
  };
}
