/**
 * Reads the links and headings of a Markdown file the way GitHub renders it, so that a test can
 * tell every relative link resolves to a file and every #anchor to a heading.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

/** One link found in a Markdown file: where it is and what it points at. */
export interface MarkdownLink {
  line: number;
  target: string;
}

/** The source with fenced code blocks blanked (line numbers kept) and inline code spans removed. */
function proseOnly(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return '';
    }
    return fence === undefined ? line.replace(/(`+)[^`]*?\1/g, '') : '';
  });
}

/** Inline links and images `[text](target "title")` and reference definitions `[x]: target`, outside code. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  proseOnly(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1] ?? '' });
    }
    const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) links.push({ line: index + 1, target: definition[1] ?? '' });
  });
  return links;
}

/** GitHub's anchor for a heading text: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the headings of `markdown` define; a repeated heading gets -1, -2, … as on GitHub. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseOnlyKeepingCode(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = headingSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Lines outside fenced blocks, inline code kept (a heading's `code` is part of its anchor text). */
function proseOnlyKeepingCode(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/**
 * What is wrong with the relative links of the Markdown file `path`: a target file that does not
 * exist, or an #anchor that no heading of the target defines. Web links are not followed.
 */
export function brokenLinks(path: string, root: string): string[] {
  const problems: string[] = [];
  const where = (link: MarkdownLink) => `${relative(root, path)}:${link.line} ${link.target}`;
  for (const link of markdownLinks(readFileSync(path, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue;
    const [file = '', anchor] = link.target.split('#', 2);
    const target = file === '' ? path : resolve(dirname(path), decodeURIComponent(file));
    if (!existsSync(target)) {
      problems.push(`${where(link)}: no such file ${relative(root, target)}`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(target).isDirectory() || !target.endsWith('.md')) {
      problems.push(`${where(link)}: #${anchor} points into ${relative(root, target)}, which has no headings`);
    } else if (!headingAnchors(readFileSync(target, 'utf8')).has(decodeURIComponent(anchor))) {
      problems.push(`${where(link)}: ${relative(root, target)} has no heading for #${anchor}`);
    }
  }
  return problems;
}
