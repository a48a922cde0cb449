/**
 * The README and docs/ link to each other by relative paths and #anchors; a moved section or a
 * renamed heading must not leave a link behind. The README stays short enough to read at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testTempDir } from '../support/test-run.js';
import { brokenLinks, headingAnchors, headingSlug, markdownLinks } from './markdown-links.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'deploy/README.md',
  'connector/README.md',
];

describe('README.md and docs/', () => {
  it.each(DOCS)('%s: every relative link reaches an existing file and heading', (file) => {
    expect(brokenLinks(join(ROOT, file), ROOT)).toEqual([]);
  });

  it('README.md is at most 200 lines', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(200);
  });

  it('README.md links to every page of docs/', () => {
    const readme = markdownLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]);
    const pages = DOCS.filter((file) => file.startsWith('docs/'));
    expect(pages.filter((page) => !readme.includes(page))).toEqual([]);
  });
});

describe('the link check', () => {
  it('reports a missing file and a missing anchor, with the line', async () => {
    const dir = await testTempDir('doc-links');
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'b.md'), '# B page\n\n## Running `run` (the main job)\n');
    await writeFile(
      join(dir, 'a.md'),
      [
        '# A',
        '[ok](docs/b.md#running-run-the-main-job) [web](https://example.com/x#y) [self](#a)',
        '[gone](docs/c.md)',
        '[no heading](docs/b.md#running)',
        '```sh',
        '[in code](nowhere.md)',
        '```',
        '`[inline](nowhere.md)`',
      ].join('\n'),
    );
    expect(brokenLinks(join(dir, 'a.md'), dir)).toEqual([
      'a.md:3 docs/c.md: no such file docs/c.md',
      'a.md:4 docs/b.md#running: docs/b.md has no heading for #running',
    ]);
  });

  it("computes GitHub's anchors, numbering repeated headings", () => {
    expect(headingSlug("Target's doors: how updates reach Adobe Target")).toBe('targets-doors-how-updates-reach-adobe-target');
    expect(headingSlug('Before starting: `check`')).toBe('before-starting-check');
    expect([...headingAnchors('# Notes\n## Notes\n```\n# not a heading\n```\n## Notes')]).toEqual(['notes', 'notes-1', 'notes-2']);
  });
});
