/**
 * docs/mapping.md cannot drift from what the connector does: its examples are regions of
 * examples/reference/, whose cases run here through `test`, and every snippet must equal its region.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runMappingTests } from '../../connector/apps/mapping-test/mapping-test.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(ROOT, 'docs/mapping.md');
const REFERENCE = ['examples/reference/mapping.yaml', 'examples/reference/mapping.test.yaml'];
const SNIPPET = /<!-- snippet: ([^#]+)#(.+?) -->\n```yaml\n([\s\S]*?)\n```/g;
const MARKER = /^\s*# --- (.+) ---$/;

/** The regions of a file: the lines between `# --- name ---` and `# --- end name ---`, dedented. */
function regions(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, start) => {
    const name = MARKER.exec(line)?.[1];
    if (name === undefined || name.startsWith('end ')) return;
    const end = lines.findIndex((l, i) => i > start && l.trim() === `# --- end ${name} ---`);
    if (end === -1) throw new Error(`region ${name} has no end marker`);
    const body = lines.slice(start + 1, end);
    const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
    found.set(
      name,
      body
        .map((l) => l.slice(indent))
        .join('\n')
        .replace(/^\n+|\n+$/g, ''),
    );
  });
  return found;
}

describe('docs/mapping.md', () => {
  it('every example of the reference passes `test`', async () => {
    let report = '';
    const code = await runMappingTests({ config: join(ROOT, 'examples/reference/config.yaml') }, { out: (t) => (report += t), err: (t) => (report += t) });
    expect(report).toMatch(/^12 cases: 12 passed, 0 failed$/m);
    expect(code).toBe(0);
  });

  it('shows each region of the reference files exactly, and every one of them', async () => {
    const doc = await readFile(DOC, 'utf8');
    const shown = new Set<string>();
    for (const [, file, name, block] of doc.matchAll(SNIPPET)) {
      const region = regions(await readFile(join(ROOT, file as string), 'utf8')).get(name as string);
      expect(region, `${file}#${name}`).toBeDefined();
      expect(block, `${file}#${name}`).toBe(region);
      shown.add(`${file}#${name}`);
    }
    expect(doc.match(/<!-- snippet:/g)).toHaveLength(shown.size);
    for (const file of REFERENCE) {
      for (const name of regions(await readFile(join(ROOT, file), 'utf8')).keys())
        expect(shown, `${file}#${name} is not in the doc`).toContain(`${file}#${name}`);
    }
  });

  it('has an example of every transform of the contract', async () => {
    const [entry] = parse(regions(await readFile(join(ROOT, REFERENCE[0] as string), 'utf8')).get('transforms') ?? '') as [
      { attributes: Record<string, { transform?: unknown }> },
    ];
    const used = new Set(
      Object.values(entry.attributes)
        .flatMap((a) => [a.transform ?? []].flat())
        .map((t) => (typeof t === 'string' ? t : Object.keys(t as object)[0])),
    );
    expect([...used].sort()).toEqual([
      'date',
      'epoch_millis',
      'iso8601',
      'join',
      'json',
      'lookup',
      'lowercase',
      'round',
      'sha256',
      'string',
      'trim',
      'truncate',
      'uppercase',
    ]);
  });
});
