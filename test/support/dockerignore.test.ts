/** .dockerignore matching as Docker does it, which decides what the packaging test lets a COPY read. */
import { describe, expect, it } from 'vitest';
import { isIgnored, parseDockerignore, patternRegExp } from './dockerignore.js';

const ignoredBy = (source: string, paths: string[]): Record<string, boolean> => {
  const rules = parseDockerignore(source);
  return Object.fromEntries(paths.map((p) => [p, isIgnored(rules, p)]));
};

describe('parseDockerignore', () => {
  it('drops comments (a # in the first column only), blank lines and a BOM', () => {
    const rules = parseDockerignore('\uFEFF# comment\n\n   \n #not-a-comment\nnode_modules\n');
    expect(rules.map((r) => r.pattern)).toEqual(['#not-a-comment', 'node_modules']);
  });

  it('cleans patterns as Go does: ./, a leading /, doubled and trailing slashes, ..', () => {
    const rules = parseDockerignore('./build/\n/dist\nfoo//bar/../baz\n');
    expect(rules.map((r) => r.pattern)).toEqual(['build', 'dist', 'foo/baz']);
  });

  it('reads `!` (with blanks after it) as a rule that takes paths back', () => {
    expect(parseDockerignore('docs\n!  docs/README.md').map((r) => [r.pattern, r.excludes])).toEqual([
      ['docs', true],
      ['docs/README.md', false],
    ]);
  });
});

describe('patternRegExp', () => {
  it('keeps * and ? within one segment and lets ** span segments', () => {
    expect(patternRegExp('*.md').test('README.md')).toBe(true);
    expect(patternRegExp('*.md').test('docs/README.md')).toBe(false);
    expect(patternRegExp('file?.txt').test('file1.txt')).toBe(true);
    expect(patternRegExp('file?.txt').test('file/.txt')).toBe(false);
    expect(patternRegExp('a/**/b').test('a/b')).toBe(true);
    expect(patternRegExp('a/**/b').test('a/x/y/b')).toBe(true);
    expect(patternRegExp('a/**/b').test('ab')).toBe(false);
    expect(patternRegExp('logs/**').test('logs/2024/01/x.log')).toBe(true);
  });

  it('takes regexp characters literally and [...] as a character class', () => {
    expect(patternRegExp('a.txt').test('abtxt')).toBe(false);
    expect(patternRegExp('a+b(1)|c').test('a+b(1)|c')).toBe(true);
    expect(patternRegExp('[ab].txt').test('b.txt')).toBe(true);
    expect(patternRegExp('[ab].txt').test('c.txt')).toBe(false);
    expect(patternRegExp('[^ab].txt').test('c.txt')).toBe(true);
  });

  it('escapes with a backslash and rejects a lone one at the end', () => {
    expect(patternRegExp('\\*.txt').test('*.txt')).toBe(true);
    expect(patternRegExp('\\*.txt').test('a.txt')).toBe(false);
    expect(() => patternRegExp('oops\\')).toThrow('ends in a lone backslash');
  });
});

describe('isIgnored', () => {
  it('anchors patterns at the context root', () => {
    expect(ignoredBy('docs', ['docs', 'src/docs', 'docsx'])).toEqual({ docs: true, 'src/docs': false, docsx: false });
  });

  it('excludes everything inside a matched folder, also for a pattern written with a trailing slash', () => {
    expect(ignoredBy('node_modules/\n.cache', ['node_modules', 'node_modules/yaml/index.js', '.cache/kafka/bin', 'src/index.ts'])).toEqual({
      node_modules: true,
      'node_modules/yaml/index.js': true,
      '.cache/kafka/bin': true,
      'src/index.ts': false,
    });
  });

  it('matches ** at any depth, the root included', () => {
    expect(ignoredBy('**/*.log', ['a.log', 'x/y/a.log', 'a.logs', 'x/a.log/inner'])).toEqual({
      'a.log': true,
      'x/y/a.log': true,
      'a.logs': false,
      'x/a.log/inner': true,
    });
  });

  it('lets the last matching rule decide, so ! takes a path back only after the rule that excluded it', () => {
    expect(ignoredBy('docs\n!docs/README.md', ['docs/README.md', 'docs/guide.md'])).toEqual({ 'docs/README.md': false, 'docs/guide.md': true });
    expect(ignoredBy('!docs/README.md\ndocs', ['docs/README.md'])).toEqual({ 'docs/README.md': true });
  });

  it('takes a whole folder back from a catch-all', () => {
    expect(ignoredBy('*\n!src\n!package.json', ['src/a/b.ts', 'package.json', 'README.md', 'test/x.ts'])).toEqual({
      'src/a/b.ts': false,
      'package.json': false,
      'README.md': true,
      'test/x.ts': true,
    });
  });

  it('cleans the path asked about', () => {
    expect(ignoredBy('dist', ['./dist/', 'src/../dist/x'])).toEqual({ './dist/': true, 'src/../dist/x': true });
  });

  it('leaves everything in the context without rules', () => {
    expect(isIgnored([], 'anything/at/all')).toBe(false);
  });
});
