/**
 * `init`'s mapping text for one topic and schema: every leaf path listed with its type and doc
 * (active where it can be one attribute, commented out where not), the identity guessed from
 * field names and marked as a guess, and a commented `when` for an event-type enum.
 */
import type { Type } from 'avsc';
import { attributeNameProblem } from '../mapping/names.js';
import { schemaLeaves, type SchemaLeaf } from './schema-leaves.js';

export interface ScaffoldOptions {
  topic: string;
  /** The `schema:` value: the .avsc path relative to the mapping's folder. */
  schemaPath: string;
  /** The `yaml-language-server` `$schema` reference to mapping.schema.json. */
  mappingSchemaRef: string;
  /** The identity path; guessed from field names when absent. */
  identity?: string;
}

/** The mapping text, or why there is none. */
export type Scaffold = { ok: true; text: string; identity: string; guessed: boolean } | { ok: false; reason: string };

const PERSON = /customer|member|user|client|person|account|profile|shopper|contact/i;
const EVENT_TYPE = /^(event|change|action|operation|op|record)_?type$|^(type|action|operation|op|kind)$/i;

function lastName(path: string): string {
  return path.replace(/\[0\]/g, '').split('.').at(-1) ?? path;
}

/** How strongly a leaf looks like the profile's id: higher is likelier, 0 is not at all. */
function identityScore(leaf: SchemaLeaf): number {
  if (leaf.use !== 'attribute' || !/string|long|int|uuid/.test(leaf.typeText)) return 0;
  const segments = leaf.path.split('.');
  const name = segments.at(-1) as string;
  const parent = segments.at(-2) ?? '';
  const required = leaf.optional ? 0 : 5;
  if (/^(customer|member|user|client|person|shopper)_?id$/i.test(name)) return 100 + required;
  if (/^id$/i.test(name) && PERSON.test(parent)) return 90 + required;
  if (/(_id|Id)$/.test(name) && PERSON.test(name)) return 80 + required;
  if (/(_id|Id)$/.test(name) && PERSON.test(parent)) return 70 + required;
  if (/^id$/i.test(name) && segments.length === 1) return 50 + required;
  return 0;
}

/** The leaf most likely to be the profile's id, if any looks like one. */
export function guessIdentity(leaves: readonly SchemaLeaf[]): SchemaLeaf | undefined {
  let best: SchemaLeaf | undefined;
  for (const leaf of leaves) if (identityScore(leaf) > (best ? identityScore(best) : 0)) best = leaf;
  return best;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Attribute names for the leaves: the field name, or more of the path where names repeat. */
function attributeNames(leaves: readonly SchemaLeaf[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const leaf of leaves) count.set(lastName(leaf.path), (count.get(lastName(leaf.path)) ?? 0) + 1);
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const leaf of leaves) {
    const segments = leaf.path.replace(/\[0\]/g, '').split('.');
    const candidates = [
      lastName(leaf.path),
      segments
        .slice(-2)
        .map((s, i) => (i === 0 ? s : capitalized(s)))
        .join(''),
      segments.map((s, i) => (i === 0 ? s : capitalized(s))).join(''),
    ];
    let name = candidates.find((c, i) => (i > 0 || count.get(c) === 1) && !taken.has(c) && attributeNameProblem(c) === undefined);
    for (let n = 2; name === undefined; n += 1) if (!taken.has(`${candidates[2]}${n}`)) name = `${candidates[2]}${n}`;
    taken.add(name);
    names.set(leaf.path, name);
  }
  return names;
}

function comment(leaf: SchemaLeaf, note?: string): string {
  const parts = [leaf.typeText, ...(leaf.optional ? ['optional'] : []), ...(note ? [note] : [])].join(', ');
  return `# ${parts}${leaf.doc ? ` — ${leaf.doc.replace(/\s+/g, ' ')}` : ''}`;
}

function scalarText(text: string): string {
  return /^[\w.][\w./-]*$/.test(text) && !/^(true|false|null|yes|no|on|off)$/i.test(text) ? text : JSON.stringify(text);
}

/** The scaffold of a mapping for `topic` read with `type`. */
export function scaffoldMapping(type: Type, options: ScaffoldOptions): Scaffold {
  const leaves = schemaLeaves(type);
  let identity: SchemaLeaf | undefined;
  if (options.identity !== undefined) {
    identity = leaves.find((leaf) => leaf.path === options.identity);
    if (!identity || identity.use !== 'attribute') {
      const usable = leaves.filter((leaf) => leaf.use === 'attribute').map((leaf) => leaf.path);
      return { ok: false, reason: `--identity ${options.identity} is not a single value of the schema; one of: ${usable.join(', ')}` };
    }
  } else {
    identity = guessIdentity(leaves);
    if (!identity) return { ok: false, reason: 'no field looks like the profile id (customerId, customer.id, member_id, ...): name it with --identity PATH' };
  }
  const guessed = options.identity === undefined;
  const names = attributeNames(leaves.filter((leaf) => leaf !== identity));
  const eventType = leaves.find((leaf) => leaf.use === 'attribute' && leaf.typeText.startsWith('enum ') && EVENT_TYPE.test(lastName(leaf.path)));
  const lines = [
    `# yaml-language-server: $schema=${options.mappingSchemaRef}`,
    '#',
    `# Scaffolded by \`target-profile-sink init\` for topic ${options.topic}. Every leaf path of the schema`,
    '# is listed with its Avro type and doc; the ones that cannot be one attribute (list items, maps,',
    '# bytes) are commented out. Keep what Target needs, delete the rest, then run',
    '# `target-profile-sink test` on the test file beside this one.',
    'version: 1',
    'mappings:',
    `  - topic: ${scalarText(options.topic)}`,
    `    schema: ${scalarText(options.schemaPath)}`,
    `    identity: { mbox3rdPartyId: ${identity.path} }  ${guessed ? '# guessed: check' : '# given with --identity'} (${identity.typeText})`,
  ];
  // With the identity optional the `when` is active (events without it are filtered, not
  // dead-lettered); the event-type example stays a comment either way.
  const example =
    eventType &&
    `- { path: ${eventType.path}, in: [${eventType.typeText
      .replace(/^enum [^(]*\((.*)\)$/, '$1')
      .split(', ')
      .slice(0, 2)
      .join(', ')}] }  # only some kinds of event`;
  if (identity.optional) {
    lines.push('    when:', `      - { path: ${identity.path}, exists: true }  # the identity is optional: filter events without it`);
    if (example) lines.push(`      # ${example}`);
  } else if (example) lines.push('    # when:', `    #   ${example}`);
  lines.push('    attributes:');
  let expand: SchemaLeaf | undefined;
  for (const leaf of leaves) {
    if (leaf === identity) continue;
    const name = names.get(leaf.path) as string;
    if (leaf.use === 'attribute') lines.push(`      ${name}: ${leaf.path}  ${comment(leaf)}`);
    else if (leaf.use === 'expand') {
      expand ??= leaf;
      lines.push(`      # ${leaf.path}: ${comment(leaf, 'see expand below').slice(2)}`);
    } else
      lines.push(
        `      # ${name}: ${leaf.inList ? `"${leaf.path}"` : leaf.path}  ${comment(leaf, leaf.inList ? 'the first list item only' : 'not one attribute value')}`,
      );
  }
  if (expand) lines.push(`    # expand: { path: ${expand.path}, prefix: ${lastName(expand.path)}_ }  # every key of the map becomes an attribute`);
  return { ok: true, text: `${lines.join('\n')}\n`, identity: identity.path, guessed };
}
