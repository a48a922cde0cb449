/**
 * .dockerignore as Docker reads it (moby's ignorefile and patternmatcher): patterns are cleaned
 * and anchored at the context root, `*` and `?` stay within one path segment, `**` spans any
 * number of them, a pattern that matches a folder excludes everything in it, and the last
 * matching pattern decides, so `!pattern` can take a path back.
 */
import { posix } from 'node:path';

/** One line of a .dockerignore. */
export interface IgnoreRule {
  /** The cleaned pattern, without its `!`. */
  pattern: string;
  /** False for a `!` line, which takes matching paths back into the context. */
  excludes: boolean;
  regexp: RegExp;
}

/** Go's filepath.Clean on a slash path: `.` segments, doubled and trailing slashes removed, `..` folded. */
function clean(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** Docker's translation of a cleaned pattern into an anchored regular expression. */
export function patternRegExp(pattern: string): RegExp {
  let source = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new Error(`.dockerignore pattern ${pattern}: ends in a lone backslash`);
      source += `\\${next}`;
    } else if (inClass) {
      if (c === ']') inClass = false;
      source += c;
    } else if (c === '[') {
      inClass = true;
      source += c;
    } else if (c === '*' && pattern[i + 1] === '*') {
      i += pattern[i + 2] === '/' ? 2 : 1;
      // `**` at the end takes everything below; elsewhere it stands for any number of whole segments.
      source += i === pattern.length - 1 ? '.*' : '(?:.*/)?';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|\]]/g, '\\$&');
  }
  if (inClass) throw new Error(`.dockerignore pattern ${pattern}: unterminated [`);
  return new RegExp(`^${source}$`);
}

/** The rules of a .dockerignore, in order. */
export function parseDockerignore(source: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const line of source.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    // Only a `#` in the first column starts a comment; Docker trims the line after that test.
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const excludes = !pattern.startsWith('!');
    if (!excludes) pattern = pattern.slice(1).trim();
    if (pattern !== '') pattern = clean(pattern);
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    rules.push({ pattern, excludes, regexp: patternRegExp(pattern) });
  }
  return rules;
}

/** True when the rules leave `path` (relative to the context root) out of the build context. */
export function isIgnored(rules: IgnoreRule[], path: string): boolean {
  const parts = clean(path).split('/');
  let ignored = false;
  for (const rule of rules) {
    // A path is also matched through any folder above it.
    if (parts.some((_, i) => rule.regexp.test(parts.slice(0, i + 1).join('/')))) ignored = rule.excludes;
  }
  return ignored;
}
