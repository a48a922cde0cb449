/**
 * Compiles one `mappings[i]` entry (already checked against the JSON Schema) into closures:
 * conditions, the identity, one writer per attribute and the optional map expansion. Semantic
 * problems (path syntax, attribute names, constants) are reported with their positions.
 */
import { UnmappableEventError, type SourceProblem } from '../errors.js';
import type { IdentityKind } from '../profile.js';
import { compileCondition, type Check, type ConditionSpec } from './conditions.js';
import { attributeNameProblem, identityProblem, MAX_VALUE_LENGTH, stripProfilePrefix } from './names.js';
import { compileGetter, parsePath, type Getter } from './paths.js';
import type { PathUse } from './static-check.js';
import { stringifyValue, textLength, truncateText } from './stringify.js';
import { compileTransforms, type Step, type TransformSpec } from './transforms.js';
import type { LongValuesPolicy, MappingOutcome } from './types.js';
import type { FieldPath, YamlSource } from './yaml-source.js';

type Scalar = string | number | boolean;
type Transforms = TransformSpec | TransformSpec[];
type SourceSpec = string | { path: string; transform?: Transforms };
type AttributeSpec = string | { path: string; transform?: Transforms; default?: Scalar } | { value: Scalar };

/** One `mappings[i]` entry as read from YAML. */
export interface EntrySpec {
  topic: string;
  schema?: string;
  identity?: Partial<Record<IdentityKind, SourceSpec>>;
  when?: ConditionSpec[];
  attributes?: Record<string, AttributeSpec>;
  expand?: { path: string; prefix?: string; transform?: Transforms };
  long_values?: LongValuesPolicy;
}

/** One compiled mapping entry: its topic, the paths it reads and its per-event function. */
export interface CompiledEntry {
  readonly topic: string;
  readonly paths: readonly PathUse[];
  map(root: unknown): MappingOutcome;
}

/** What compiling an entry needs from the file around it. */
export interface CompileContext {
  source: YamlSource;
  /** Policy for values over 256 characters unless the entry sets `long_values`. */
  longValues: LongValuesPolicy;
  /** True when the JSON Schema check already reported a problem at or under `path`. */
  hasShapeProblem(path: FieldPath): boolean;
}

type Writer = (root: unknown, out: Record<string, string>) => void;

/** How many expanded attribute names one `expand` remembers as already checked. */
const VALID_NAMES_LIMIT = 10_000;

function transformList(spec: Transforms | undefined): TransformSpec[] {
  if (spec === undefined) return [];
  return Array.isArray(spec) ? spec : [spec];
}

/** Applies the long-values policy to a value known to exceed 256 UTF-16 units. */
function limitLength(policy: LongValuesPolicy): (text: string, name: string) => string {
  if (policy === 'allow') return (text) => text;
  return (text, name) => {
    const length = textLength(text);
    if (length <= MAX_VALUE_LENGTH) return text;
    if (policy === 'truncate') return truncateText(text, MAX_VALUE_LENGTH);
    throw new UnmappableEventError(
      `attribute ${name} has ${length} characters; Target keeps at most ${MAX_VALUE_LENGTH} (long_values: reject)`,
    );
  };
}

/** Runs a transform chain, naming the attribute when a transform cannot handle the value. */
function guarded(chain: Step, subject: string): Step {
  return (value) => {
    try {
      return chain(value);
    } catch (err) {
      if (err instanceof UnmappableEventError) throw new UnmappableEventError(`${subject}: ${err.message}`, { cause: err });
      throw err;
    }
  };
}

function pathWriter(
  name: string,
  get: Getter,
  chain: Step | undefined,
  fallback: string | undefined,
  limit: (text: string, name: string) => string,
): Writer {
  const transform = chain && guarded(chain, `attribute ${name}`);
  return (root, out) => {
    let value = get(root);
    if (transform !== undefined && value !== undefined && value !== null) value = transform(value);
    let text = typeof value === 'string' ? value : stringifyValue(value);
    if (text === undefined || text === '') {
      if (fallback === undefined) return;
      text = fallback;
    }
    out[name] = text.length > MAX_VALUE_LENGTH ? limit(text, name) : text;
  };
}

function expandWriter(
  pathText: string,
  prefix: string,
  get: Getter,
  chain: Step | undefined,
  limit: (text: string, name: string) => string,
): Writer {
  const transform = chain && guarded(chain, `expand ${pathText}`);
  // Map keys repeat from event to event: check each resulting name once (bounded: keys are data).
  const validNames = new Set<string>();
  return (root, out) => {
    const map = get(root);
    if (map === null || typeof map !== 'object' || Array.isArray(map)) return;
    for (const key of Object.keys(map)) {
      let value = (map as Record<string, unknown>)[key];
      if (transform !== undefined && value !== undefined && value !== null) value = transform(value);
      const text = typeof value === 'string' ? value : stringifyValue(value);
      if (text === undefined || text === '') continue;
      const name = prefix + key;
      if (!validNames.has(name)) {
        const problem = attributeNameProblem(name);
        if (problem) throw new UnmappableEventError(`expand ${pathText}: ${problem}`);
        if (validNames.size < VALID_NAMES_LIMIT) validNames.add(name);
      }
      out[name] = text.length > MAX_VALUE_LENGTH ? limit(text, name) : text;
    }
  };
}

function identityReader(kind: IdentityKind, pathText: string, get: Getter, chain: Step | undefined): (root: unknown) => string {
  const transform = chain && guarded(chain, `identity ${kind}`);
  return (root) => {
    let value = get(root);
    if (transform !== undefined && value !== undefined && value !== null) value = transform(value);
    const text = typeof value === 'string' ? value : stringifyValue(value);
    if (text === undefined) throw new UnmappableEventError(`identity ${kind} (${pathText}) is missing`);
    const problem = identityProblem(kind, text);
    if (problem) throw new UnmappableEventError(`identity ${kind} (${pathText}): ${problem}`);
    return text;
  };
}

/**
 * Compiles one entry. The entry is missing when a required part could not be compiled, and is
 * usable only when no problem is reported for the whole file; `paths` are every path that could
 * be parsed, for the static check.
 */
export function compileEntry(
  ctx: CompileContext,
  index: number,
  spec: EntrySpec,
): { entry?: CompiledEntry; paths: PathUse[]; problems: SourceProblem[] } {
  const { source } = ctx;
  const base: FieldPath = ['mappings', index];
  const problems: SourceProblem[] = [];
  const paths: PathUse[] = [];
  const limit = limitLength(spec.long_values ?? ctx.longValues);

  function usePath(field: FieldPath, text: string, mustBeMap = false): Getter | undefined {
    const parsed = parsePath(text);
    if ('error' in parsed) {
      problems.push(source.problem(field, parsed.error));
      return undefined;
    }
    paths.push({ text, segments: parsed.segments, where: source.location(field), mustBeMap });
    return compileGetter(parsed.segments);
  }

  function constantText(field: FieldPath, value: Scalar, what: string): string | undefined {
    const text = stringifyValue(value) ?? '';
    if (text === '') {
      problems.push(source.problem(field, `${what} is empty; Target cannot clear an attribute, so it would never be sent`));
      return undefined;
    }
    return text;
  }

  const checks: Check[] = [];
  (spec.when ?? []).forEach((condition, i) => {
    const field = [...base, 'when', i];
    if (ctx.hasShapeProblem(field)) return;
    const get = usePath([...field, 'path'], condition.path);
    if (get) checks.push(compileCondition(condition, get));
  });

  let identity: { kind: IdentityKind; read: (root: unknown) => string } | undefined;
  const identityField = [...base, 'identity'];
  const identityEntry = spec.identity && !ctx.hasShapeProblem(identityField) ? Object.entries(spec.identity)[0] : undefined;
  if (identityEntry) {
    const [kind, from] = identityEntry as [IdentityKind, SourceSpec];
    const field = [...identityField, kind];
    const { path, transform } = typeof from === 'string' ? { path: from, transform: undefined } : from;
    const get = usePath(typeof from === 'string' ? field : [...field, 'path'], path);
    if (get) identity = { kind, read: identityReader(kind, path, get, compileTransforms(transformList(transform))) };
  }

  const writers: Writer[] = [];
  const seen = new Set<string>();
  for (const [written, attribute] of Object.entries(spec.attributes ?? {})) {
    const field = [...base, 'attributes', written];
    const name = stripProfilePrefix(written);
    const nameProblem = attributeNameProblem(name);
    if (nameProblem) problems.push(source.problem(field, nameProblem, 'key'));
    else if (seen.has(name)) problems.push(source.problem(field, `attribute "${name}" is mapped twice (the profile. prefix is optional)`, 'key'));
    seen.add(name);
    if (ctx.hasShapeProblem(field)) continue;
    if (typeof attribute === 'object' && 'value' in attribute) {
      const text = constantText([...field, 'value'], attribute.value, `constant for ${name}`);
      if (text !== undefined) writers.push((_root, out) => (out[name] = text.length > MAX_VALUE_LENGTH ? limit(text, name) : text));
      continue;
    }
    const { path, transform, default: fallback } = typeof attribute === 'string' ? { path: attribute, transform: undefined, default: undefined } : attribute;
    const get = usePath(typeof attribute === 'string' ? field : [...field, 'path'], path);
    const fallbackText = fallback === undefined ? undefined : constantText([...field, 'default'], fallback, `default for ${name}`);
    if (get) writers.push(pathWriter(name, get, compileTransforms(transformList(transform)), fallbackText, limit));
  }

  const expandField = [...base, 'expand'];
  if (spec.expand && !ctx.hasShapeProblem(expandField)) {
    const { path, prefix = '', transform } = spec.expand;
    const get = usePath([...expandField, 'path'], path, true);
    // Expanded attributes go first so that explicit attributes of the same name win.
    if (get) writers.unshift(expandWriter(path, stripProfilePrefix(prefix), get, compileTransforms(transformList(transform)), limit));
  }

  const attributesField = [...base, 'attributes'];
  const nothingToSend = Object.keys(spec.attributes ?? {}).length === 0 && spec.expand === undefined;
  if (nothingToSend && !ctx.hasShapeProblem(attributesField) && !ctx.hasShapeProblem(expandField)) {
    problems.push(source.problem(base, 'mapping needs attributes or expand, otherwise it never sends anything'));
  }

  if (!identity) return { paths, problems };
  const { kind, read } = identity;
  const label = `mappings[${index}] (${spec.topic})`;
  const entry: CompiledEntry = {
    topic: spec.topic,
    paths,
    map(root) {
      for (const check of checks) {
        const reason = check(root);
        if (reason !== undefined) return { kind: 'filtered', reason: `when: ${reason}` };
      }
      const attributes: Record<string, string> = {};
      let value: string;
      try {
        value = read(root);
        for (const write of writers) write(root, attributes);
      } catch (err) {
        if (err instanceof UnmappableEventError) {
          return { kind: 'error', error: new UnmappableEventError(`${label}: ${err.message}`, { cause: err }) };
        }
        throw err;
      }
      // A for-in that returns at once is the allocation-free "has at least one key".
      for (const _name in attributes) return { kind: 'update', update: { identity: { kind, value }, attributes } };
      return { kind: 'filtered', reason: 'no attribute has a value' };
    },
  };
  return { entry, paths, problems };
}
