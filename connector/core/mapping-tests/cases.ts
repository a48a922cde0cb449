/**
 * Mapping test cases as written in a `*.test.yaml` file: a topic, an input event and what must
 * come out. Pure: the adapter reads the file, this turns its text into positioned cases and
 * problems. Attribute values keep the text the YAML shows (`1.50` stays "1.50"), because Target
 * receives text.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import type { SourceProblem } from '../errors.js';
import type { IdentityKind, ProfileIdentity, UpdateRoute } from '../profile.js';

/** The route of a mapping that names none: the single-update door (bulk when far behind). */
export const DEFAULT_ROUTE: UpdateRoute = 'single';

const ROUTES: readonly UpdateRoute[] = ['single', 'realtime'];

/** One profile update a case expects (or the test run saw). */
export interface CaseUpdate {
  identity: ProfileIdentity;
  route: UpdateRoute;
  attributes: Record<string, string>;
}

/** What a case expects, or what an event became: updates, a filter or a dead letter (reasons as substrings). */
export type CaseOutcome = { kind: 'updates'; updates: CaseUpdate[] } | { kind: 'filtered'; reason: string } | { kind: 'dead_letter'; reason: string };

/** The event of a case: JSON in the Avro schema's JSON form (null for a tombstone), or an Avro file beside the case file. */
export type CaseInput = { kind: 'json'; value: unknown } | { kind: 'file'; path: string };

/** One test case with where it is written. */
export interface TestCase {
  file: string;
  line: number;
  column: number;
  /** Its position in the file's `cases` list. */
  index: number;
  name: string;
  topic: string;
  input: CaseInput;
  /** Absent when the case records nothing yet (`test --update` fills it in). */
  expected?: CaseOutcome;
}

/** A case file's cases, and the problems that keep the others from running. */
export interface CaseFile {
  file: string;
  cases: TestCase[];
  problems: SourceProblem[];
}

const CASE_KEYS = ['name', 'topic', 'input', 'input_file', 'updates', 'filtered', 'dead_letter'];
const EXPECTATION_KEYS = ['updates', 'filtered', 'dead_letter'] as const;
const UPDATE_KEYS = ['identity', 'route', 'attributes'];
const IDENTITY_KINDS: IdentityKind[] = ['mbox3rdPartyId', 'mboxPC'];

class Reader {
  readonly problems: SourceProblem[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  at(node: Node | Pair['key'] | null | undefined): { line: number; column: number } {
    const offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  problem(node: Node | Pair['key'] | null | undefined, message: string): void {
    this.problems.push({ file: this.file, ...this.at(node), message });
  }

  /** The text of a scalar as written (plain `1.50` keeps its digits), or undefined (with a problem) for anything else. */
  text(node: unknown, what: string, at: Node | null | undefined): string | undefined {
    if (!isScalar(node) || node.value === null) {
      this.problem((node as Node | null) ?? at, `${what} must be text`);
      return undefined;
    }
    if (typeof node.value === 'string') return node.value;
    return node.source ?? String(node.value);
  }
}

function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

function entries(map: YAMLMap): Map<string, Pair> {
  return new Map(map.items.map((pair) => [keyOf(pair), pair] as const));
}

/** The route an expected update names: `single` or `realtime`, as a mapping's `route:`. */
function readRoute(r: Reader, pair: Pair): UpdateRoute | undefined {
  const text = r.text(pair.value, 'route', pair.key as Node);
  if (text === undefined) return undefined;
  if ((ROUTES as readonly string[]).includes(text)) return text as UpdateRoute;
  r.problem((pair.value as Node | null) ?? (pair.key as Node), `route ${JSON.stringify(text)} is not one of ${ROUTES.join(', ')}`);
  return undefined;
}

function readIdentity(r: Reader, node: unknown, at: Node): ProfileIdentity | undefined {
  if (!isMap(node) || node.items.length !== 1) {
    r.problem((node as Node | null) ?? at, `identity must be exactly one of ${IDENTITY_KINDS.join(' or ')}: { mbox3rdPartyId: C-1 }`);
    return undefined;
  }
  const pair = node.items[0] as Pair;
  const kind = keyOf(pair);
  if (!IDENTITY_KINDS.includes(kind as IdentityKind)) {
    r.problem(pair.key as Node, `identity ${kind} is not one of ${IDENTITY_KINDS.join(', ')}`);
    return undefined;
  }
  const value = r.text(pair.value, `identity ${kind}`, pair.key as Node);
  return value === undefined ? undefined : { kind: kind as IdentityKind, value };
}

function readUpdate(r: Reader, node: unknown, at: Node): CaseUpdate | undefined {
  if (!isMap(node)) {
    r.problem((node as Node | null) ?? at, 'an update is { identity: {...}, attributes: {...} }');
    return undefined;
  }
  const keys = entries(node);
  for (const [key, pair] of keys) if (!UPDATE_KEYS.includes(key)) r.problem(pair.key as Node, `unknown key ${key} in an update (${UPDATE_KEYS.join(', ')})`);
  const identityPair = keys.get('identity');
  if (!identityPair) r.problem(node, 'an update needs identity');
  const identity = identityPair && readIdentity(r, identityPair.value, identityPair.key as Node);
  const routePair = keys.get('route');
  const route = routePair ? readRoute(r, routePair) : DEFAULT_ROUTE;
  const attributes: Record<string, string> = {};
  const attributesPair = keys.get('attributes');
  if (!attributesPair || !isMap(attributesPair.value)) {
    r.problem((attributesPair?.value as Node | null) ?? attributesPair?.key ?? node, 'an update needs attributes: { name: value, ... }');
  } else {
    for (const pair of attributesPair.value.items) {
      const name = keyOf(pair);
      const value = r.text(pair.value, `attribute ${name}`, pair.key as Node);
      if (value !== undefined) attributes[name] = value;
    }
  }
  return identity && route !== undefined ? { identity, route, attributes } : undefined;
}

function readExpectation(r: Reader, keys: Map<string, Pair>, item: Node): CaseOutcome | undefined | null {
  const given = EXPECTATION_KEYS.filter((key) => keys.has(key));
  if (given.length === 0) return undefined;
  if (given.length > 1) {
    r.problem(keys.get(given[1] as string)?.key as Node, `a case expects exactly one of ${EXPECTATION_KEYS.join(', ')}, not ${given.join(' and ')}`);
    return null;
  }
  const kind = given[0] as (typeof EXPECTATION_KEYS)[number];
  const pair = keys.get(kind) as Pair;
  if (kind !== 'updates') {
    const reason = r.text(pair.value, `${kind} (a part of the reason)`, pair.key as Node);
    return reason === undefined ? null : { kind, reason };
  }
  if (!isSeq(pair.value) || pair.value.items.length === 0) {
    r.problem((pair.value as Node | null) ?? item, 'updates is a list of { identity, attributes } (an event with none is `filtered`)');
    return null;
  }
  const updates = pair.value.items.map((u) => readUpdate(r, u, pair.key as Node));
  return updates.every((u) => u !== undefined) ? { kind, updates: updates as CaseUpdate[] } : null;
}

function readCase(r: Reader, item: unknown, index: number, list: Node): TestCase | undefined {
  if (!isMap(item)) {
    r.problem((item as Node | null) ?? list, 'a case is a map: { name, topic, input, updates | filtered | dead_letter }');
    return undefined;
  }
  const before = r.problems.length;
  const keys = entries(item);
  for (const [key, pair] of keys) if (!CASE_KEYS.includes(key)) r.problem(pair.key as Node, `unknown key ${key} in a case (${CASE_KEYS.join(', ')})`);
  const name = keys.has('name') ? r.text(keys.get('name')?.value, 'name', item) : `case ${index + 1}`;
  const topicPair = keys.get('topic');
  if (!topicPair) r.problem(item, 'a case needs topic');
  const topic = topicPair && r.text(topicPair.value, 'topic', topicPair.key as Node);
  let input: CaseInput | undefined;
  const json = keys.get('input');
  const file = keys.get('input_file');
  if (json && file) r.problem(file.key as Node, 'a case has input or input_file, not both');
  else if (json) input = { kind: 'json', value: json.value == null ? null : (json.value as Node).toJSON() };
  else if (file) {
    const path = r.text(file.value, 'input_file', file.key as Node);
    if (path !== undefined) input = { kind: 'file', path };
  } else r.problem(item, 'a case needs input (the event as JSON) or input_file (an Avro file)');
  const expected = readExpectation(r, keys, item);
  if (r.problems.length > before || name === undefined || topic === undefined || input === undefined || expected === null) return undefined;
  return { file: r.file, ...r.at(item), index, name, topic, input, ...(expected && { expected }) };
}

/** Reads a case file's text: `cases:` is a list of cases. Problems carry file:line:column. */
export function parseCaseFile(file: string, text: string): CaseFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const r = new Reader(file, lines);
  if (doc.errors.length > 0) {
    const seen = new Set<number>();
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0]);
      // After the first error of a line, the parser's follow-ups there are noise.
      if (!seen.has(line)) r.problems.push({ file, line, column: col, message: err.message });
      seen.add(line);
    }
    return { file, cases: [], problems: r.problems };
  }
  const root = doc.contents;
  const list = isMap(root) ? root.get('cases', true) : undefined;
  if (!isSeq(list)) {
    r.problem((list as Node | undefined) ?? root, 'a test file holds `cases:`, a list of { name, topic, input, updates | filtered | dead_letter }');
    return { file, cases: [], problems: r.problems };
  }
  const cases = list.items.flatMap((item, index) => readCase(r, item, index, list) ?? []);
  return { file, cases, problems: r.problems };
}
