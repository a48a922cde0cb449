/** A parsed YAML file that can say where any of its fields is written (line and column). */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { SourceProblem } from '../errors.js';

/** Location of a field as keys and indexes from the document root. */
export type FieldPath = readonly (string | number)[];

/** `mappings[0].attributes.email`, the way problems name a field. */
export function formatField(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A YAML file parsed with source positions (yaml's LineCounter). */
export class YamlSource {
  /** The document as plain JavaScript values. */
  readonly data: unknown;
  /** Syntax errors (bad indentation, duplicate keys...), already positioned. */
  readonly syntaxProblems: SourceProblem[];
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    // One error per line: after the first, the parser's follow-up complaints on that line are noise.
    const reported = new Set<number>();
    this.syntaxProblems = [];
    for (const err of this.doc.errors) {
      const at = this.lineColumn(err.pos[0]);
      if (reported.has(at.line)) continue;
      reported.add(at.line);
      this.syntaxProblems.push({ file, ...at, message: err.message });
    }
    this.data = this.syntaxProblems.length === 0 ? this.doc.toJS() : undefined;
  }

  private lineColumn(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where the field at `path` is written: its value, or its key with `part: 'key'`. A path that
   * leaves the document points at the deepest node that exists.
   */
  position(path: FieldPath, part: 'key' | 'value' = 'value'): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) break;
        keyNode = pair.key;
        // A key without a value (`email:`) has no value node; point at the key.
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else {
        break;
      }
    }
    const target = part === 'key' && keyNode !== undefined ? keyNode : node;
    const range = (target as { range?: [number, number, number] } | null)?.range;
    return this.lineColumn(range ? range[0] : 0);
  }

  /** File, line, column and field name of the field (or its key), for problems found later. */
  location(path: FieldPath, part: 'key' | 'value' = 'value'): Omit<SourceProblem, 'message'> {
    const field = formatField(path);
    return { file: this.file, ...this.position(path, part), ...(field ? { field } : {}) };
  }

  /** A problem located at the field (or its key). */
  problem(path: FieldPath, message: string, part: 'key' | 'value' = 'value'): SourceProblem {
    return { ...this.location(path, part), message };
  }
}
