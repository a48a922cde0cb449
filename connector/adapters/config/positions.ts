/** Source positions of the nodes of a parsed YAML/JSON document, looked up by field path. */
import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

interface Step {
  key: unknown;
  value: unknown;
}

function startOf(node: unknown): number | undefined {
  if (isMap(node) || isSeq(node) || isScalar(node)) return node.range?.[0];
  return undefined;
}

/** A map key as text, the way field paths spell it. */
export function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** Answers "where in the file is this field?", falling back to the nearest enclosing node. */
export class DocumentPositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The position of a source offset. */
  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Where the value of a field starts (its key when the value is empty). */
  valueAt(path: readonly string[]): Position {
    const steps = this.walk(path);
    const last = steps.at(-1);
    if (steps.length === path.length && last) return this.first(startOf(last.value), startOf(last.key));
    return this.enclosing(steps);
  }

  /** Where the key of a field starts (its value for list items, which have no key). */
  keyAt(path: readonly string[]): Position {
    const steps = this.walk(path);
    const last = steps.at(-1);
    if (steps.length === path.length && last) return this.first(startOf(last.key), startOf(last.value));
    return this.enclosing(steps);
  }

  private enclosing(steps: Step[]): Position {
    const last = steps.at(-1);
    return last ? this.first(startOf(last.key), startOf(last.value)) : { line: 1, column: 1 };
  }

  private first(...offsets: (number | undefined)[]): Position {
    const offset = offsets.find((o) => o !== undefined);
    return offset === undefined ? { line: 1, column: 1 } : this.at(offset);
  }

  /** The key/value nodes along `path`, as far as the document has them. */
  private walk(path: readonly string[]): Step[] {
    const steps: Step[] = [];
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      let step: Step | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyName(p.key) === segment);
        if (pair) step = { key: pair.key, value: pair.value };
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item !== undefined) step = { key: undefined, value: item };
      }
      if (!step) break;
      steps.push(step);
      node = step.value;
    }
    return steps;
  }
}
