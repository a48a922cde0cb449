/**
 * Compiles one `mappings[i]` entry (already checked against the JSON Schema) into closures:
 * conditions, the identity, one writer per attribute and the optional map expansion. Semantic
 * problems (path syntax, attribute names, constants) are reported with their positions; a part
 * with a shape problem is left out, but its other parts are still checked.
 */
import { UnmappableEventError, type SourceProblem } from '../errors.js';
import type { IdentityKind, ProfileUpdate, UpdateRoute } from '../profile.js';
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../target-api/limits.js';
import { compileCondition, type Check, type ConditionSpec } from './conditions.js';
import { attributeNameProblem, identityProblem, stripProfilePrefix } from './names.js';
import { compileGetter, parsePath, type Getter, type Segment } from './paths.js';
import type { ComparedValues, PathUse, TransformUse } from './static-check.js';
import { stringifyValue, textLength, truncateText } from './stringify.js';
import { compileSteps, composeSteps, type Step, type TransformPlatform, type TransformSpec } from './transforms.js';
import type { LongValuesPolicy, MappingOutcome } from './types.js';
import { compileAttributeWriter, type AttributePlan, type Limit, type Writer } from './write-attributes.js';
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
  route?: UpdateRoute;
}

/** One compiled mapping entry: its topic, the paths it reads and its per-event function. */
export interface CompiledEntry {
  readonly topic: string;
  readonly route: UpdateRoute;
  readonly paths: readonly PathUse[];
  map(root: unknown): MappingOutcome;
}

/** What compiling an entry needs from the file around it. */
export interface CompileContext {
  source: YamlSource;
  /** Policy for values over 256 characters unless the entry sets `long_values`. */
  longValues: LongValuesPolicy;
  platform: TransformPlatform;
  /**
   * True when the JSON Schema check already reported a problem at `path` itself (`at`) or at or
   * under it (`within`, the default).
   */
  hasShapeProblem(path: FieldPath, scope?: 'at' | 'within'): boolean;
}

/** How many expanded attribute names one `expand` remembers as already checked. */
const VALID_NAMES_LIMIT = 10_000;

function transformList(spec: Transforms | undefined): TransformSpec[] {
  if (spec === undefined) return [];
  return Array.isArray(spec) ? spec : [spec];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Applies the long-values policy to a value known to exceed 256 UTF-16 units; `truncated` hears
 * of every value the policy cut.
 */
function limitLength(policy: LongValuesPolicy, truncated: (name: string, text: string) => void): Limit {
  if (policy === 'allow') return (text) => text;
  return (text, name) => {
    const length = textLength(text);
    if (length <= MAX_ATTRIBUTE_VALUE_LENGTH) return text;
    if (policy === 'truncate') {
      const cut = truncateText(text, MAX_ATTRIBUTE_VALUE_LENGTH);
      truncated(name, cut);
      return cut;
    }
    throw new UnmappableEventError(`attribute ${name} has ${length} characters; Target keeps at most ${MAX_ATTRIBUTE_VALUE_LENGTH} (long_values: reject)`);
  };
}

/** A transform's failure naming what it was transforming (`attribute email`); other errors as they are. */
function naming(err: unknown, subject: string): unknown {
  return err instanceof UnmappableEventError ? new UnmappableEventError(`${subject}: ${err.message}`, { cause: err }) : err;
}

/** Runs a transform chain, naming the attribute when a transform cannot handle the value. */
function guarded(chain: Step, subject: string): Step {
  return (value) => {
    try {
      return chain(value);
    } catch (err) {
      throw naming(err, subject);
    }
  };
}

function expandWriter(pathText: string, prefix: string, get: Getter, chain: Step | undefined, limit: Limit): Writer {
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
      out[name] = text.length > MAX_ATTRIBUTE_VALUE_LENGTH ? limit(text, name) : text;
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
 * be parsed, with their transforms and compared values, for the static check.
 */
export function compileEntry(ctx: CompileContext, index: number, spec: EntrySpec): { entry?: CompiledEntry; paths: PathUse[]; problems: SourceProblem[] } {
  const { source } = ctx;
  const base: FieldPath = ['mappings', index];
  const problems: SourceProblem[] = [];
  const paths: PathUse[] = [];
  // The values the long-values policy cut while mapping the current event (mapping is
  // synchronous, so one event at a time); undefined until the first cut, the common case.
  let truncated: Map<string, string> | undefined;
  const limit = limitLength(spec.long_values ?? ctx.longValues, (name, text) => (truncated ??= new Map()).set(name, text));

  function usePath(field: FieldPath, text: string, use: Partial<Pick<PathUse, 'mustBeMap' | 'transforms' | 'compared'>> = {}): Segment[] | undefined {
    const parsed = parsePath(text);
    if ('error' in parsed) {
      problems.push(source.problem(field, parsed.error));
      return undefined;
    }
    const { mustBeMap = false, transforms = [], compared } = use;
    paths.push({ text, segments: parsed.segments, where: source.location(field), mustBeMap, transforms, ...(compared && { compared }) });
    return parsed.segments;
  }

  /** The transforms at `field` with where each is written, for the static check. */
  function transformUses(field: FieldPath, spec: Transforms | undefined): TransformUse[] {
    if (spec === undefined) return [];
    const steps = Array.isArray(spec) ? spec.map((step, i) => [step, [...field, i]] as const) : [[spec, field] as const];
    return steps.map(([step, at]) => {
      if (typeof step === 'string') return { name: step, where: source.location(at) };
      const [name = '', argument] = Object.entries(step)[0] ?? [];
      const use: TransformUse = { name, where: source.location(at) };
      if (name === 'lookup' && isObject(argument)) {
        use.keys = Object.keys(argument).map((key) => ({ key, where: source.location([...at, name, key], 'key') }));
      }
      return use;
    });
  }

  /**
   * A path with optional transforms: `spec` is the shorthand path written at `field`, or a
   * `{path, transform}` object there. Each part is used only when the JSON Schema check found no
   * problem in it; `steps` are set only when the whole source compiled.
   */
  function useSource(field: FieldPath, spec: unknown, mustBeMap = false): { segments: Segment[]; steps: Step[] } | undefined {
    if (typeof spec === 'string') {
      if (ctx.hasShapeProblem(field)) return undefined;
      const segments = usePath(field, spec, { mustBeMap });
      return segments && { segments, steps: [] };
    }
    if (!isObject(spec)) return undefined;
    const transformField = [...field, 'transform'];
    const transforms = spec.transform as Transforms | undefined;
    const transformsValid = !ctx.hasShapeProblem(transformField);
    const pathField = [...field, 'path'];
    if (typeof spec.path !== 'string' || ctx.hasShapeProblem(pathField)) return undefined;
    const segments = usePath(pathField, spec.path, { mustBeMap, transforms: transformsValid ? transformUses(transformField, transforms) : [] });
    if (!segments || !transformsValid) return undefined;
    return { segments, steps: compileSteps(transformList(transforms), ctx.platform) };
  }

  function constantText(field: FieldPath, value: Scalar, what: string): string | undefined {
    const text = stringifyValue(value) ?? '';
    if (text === '') {
      problems.push(source.problem(field, `${what} is empty; Target cannot clear an attribute, so it would never be sent`));
      return undefined;
    }
    return text;
  }

  function comparedValues(field: FieldPath, condition: ConditionSpec): ComparedValues | undefined {
    for (const operator of ['in', 'not_in'] as const) {
      const list = condition[operator];
      if (list !== undefined) return { operator, values: list.map((value, i) => ({ value, where: source.location([...field, operator, i]) })) };
    }
    if (condition.equals !== undefined) return { operator: 'equals', values: [{ value: condition.equals, where: source.location([...field, 'equals']) }] };
    return undefined;
  }

  const checks: Check[] = [];
  const whenField = [...base, 'when'];
  if (Array.isArray(spec.when) && !ctx.hasShapeProblem(whenField, 'at')) {
    spec.when.forEach((condition: unknown, i) => {
      const field = [...whenField, i];
      const pathField = [...field, 'path'];
      if (!isObject(condition) || typeof condition.path !== 'string' || ctx.hasShapeProblem(pathField)) return;
      // A condition with a problem elsewhere (two operators...) still has its path checked.
      const valid = !ctx.hasShapeProblem(field);
      const compiled = condition as unknown as ConditionSpec;
      const segments = usePath(pathField, compiled.path, valid ? { compared: comparedValues(field, compiled) } : {});
      if (segments && valid) checks.push(compileCondition(compiled, compileGetter(segments)));
    });
  }

  let identity: { kind: IdentityKind; read: (root: unknown) => string } | undefined;
  const identityField = [...base, 'identity'];
  if (isObject(spec.identity) && !ctx.hasShapeProblem(identityField, 'at')) {
    const [kind, from] = (Object.entries(spec.identity)[0] ?? []) as [IdentityKind | undefined, SourceSpec | undefined];
    if (kind !== undefined) {
      const field = [...identityField, kind];
      const compiled = useSource(field, from);
      const path = typeof from === 'string' ? from : (from?.path ?? '');
      if (compiled) identity = { kind, read: identityReader(kind, path, compileGetter(compiled.segments), composeSteps(compiled.steps)) };
    }
  }

  const plans: AttributePlan[] = [];
  const seen = new Set<string>();
  const attributesField = [...base, 'attributes'];
  const attributes = isObject(spec.attributes) && !ctx.hasShapeProblem(attributesField, 'at') ? spec.attributes : {};
  for (const [written, attribute] of Object.entries(attributes)) {
    const field = [...attributesField, written];
    const name = stripProfilePrefix(written);
    const nameProblem = attributeNameProblem(name);
    if (nameProblem) problems.push(source.problem(field, nameProblem, 'key'));
    else if (seen.has(name)) problems.push(source.problem(field, `attribute "${name}" is mapped twice (the profile. prefix is optional)`, 'key'));
    seen.add(name);
    if (ctx.hasShapeProblem(field, 'at')) continue;
    if (isObject(attribute) && 'value' in attribute) {
      if (ctx.hasShapeProblem(field)) continue;
      const text = constantText([...field, 'value'], attribute.value, `constant for ${name}`);
      if (text !== undefined) plans.push({ kind: 'constant', name, text });
      continue;
    }
    const compiled = useSource(field, attribute);
    const fallback = isObject(attribute) ? attribute.default : undefined;
    const defaultField = [...field, 'default'];
    const fallbackText = fallback === undefined || ctx.hasShapeProblem(defaultField) ? undefined : constantText(defaultField, fallback, `default for ${name}`);
    if (compiled) {
      plans.push({
        kind: 'path',
        name,
        segments: compiled.segments,
        steps: compiled.steps,
        ...(fallbackText !== undefined && { fallback: fallbackText }),
      });
    }
  }

  const expandField = [...base, 'expand'];
  if (isObject(spec.expand) && !ctx.hasShapeProblem(expandField, 'at')) {
    const compiled = useSource(expandField, spec.expand, true);
    const { path, prefix = '' } = spec.expand;
    // Expanded attributes go first so that explicit attributes of the same name win.
    if (compiled && !ctx.hasShapeProblem(expandField)) {
      plans.unshift({
        kind: 'writer',
        write: expandWriter(path, stripProfilePrefix(prefix), compileGetter(compiled.segments), composeSteps(compiled.steps), limit),
      });
    }
  }

  const nothingToSend = Object.keys(spec.attributes ?? {}).length === 0 && spec.expand === undefined;
  if (nothingToSend && !ctx.hasShapeProblem(attributesField) && !ctx.hasShapeProblem(expandField)) {
    problems.push(source.problem(base, 'mapping needs attributes or expand, otherwise it never sends anything'));
  }

  if (!identity) return { paths, problems };
  const { kind, read } = identity;
  const label = `mappings[${index}] (${spec.topic})`;
  // Decided once per entry: only realtime updates carry a route, so single ones stay as they were.
  const realtime = spec.route === 'realtime';
  const writeAttributes = compileAttributeWriter(plans, limit, naming);
  const entry: CompiledEntry = {
    topic: spec.topic,
    route: realtime ? 'realtime' : 'single',
    paths,
    map(root) {
      for (const check of checks) {
        const reason = check(root);
        if (reason !== undefined) return { kind: 'filtered', reason: `when: ${reason}` };
      }
      const attributes: Record<string, string> = {};
      let value: string;
      truncated = undefined;
      try {
        value = read(root);
        writeAttributes(root, attributes);
      } catch (err) {
        if (err instanceof UnmappableEventError) {
          return { kind: 'error', error: new UnmappableEventError(`${label}: ${err.message}`, { cause: err }) };
        }
        throw err;
      }
      // A for-in that returns at once is the allocation-free "has at least one key".
      for (const _name in attributes) {
        const update: ProfileUpdate = realtime ? { identity: { kind, value }, attributes, route: 'realtime' } : { identity: { kind, value }, attributes };
        const cut = truncated && sentTruncated(truncated, attributes);
        return cut === undefined ? { kind: 'update', update } : { kind: 'update', update, truncated: cut };
      }
      return { kind: 'filtered', reason: 'no attribute has a value' };
    },
  };
  return { entry, paths, problems };
}

/**
 * The names whose cut value is sent (an explicit attribute may have replaced a cut expanded one),
 * or undefined when there are none.
 */
function sentTruncated(cut: ReadonlyMap<string, string>, attributes: Readonly<Record<string, string>>): string[] | undefined {
  const names: string[] = [];
  for (const [name, text] of cut) if (attributes[name] === text) names.push(name);
  return names.length > 0 ? names : undefined;
}
