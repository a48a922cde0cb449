/**
 * Reads the metric selectors out of a PromQL expression (as written in Grafana panels and
 * Prometheus rules), and lists the series names a prom-client registry exposes, so that the
 * operations kit can be checked against the metrics the connector really exports.
 */

/** A metric selector in an expression: the metric's name and its label matchers as written. */
export interface Selector {
  metric: string;
  matchers: string;
}

// Words that are PromQL syntax, not metric names, where they stand without a parenthesis after
// them: operators, modifiers, and aggregations written with their modifier first (`sum by (x) (...)`).
const KEYWORDS = new Set([
  ...['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan'],
  ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'],
]);
// Modifiers followed by a parenthesised list of label names, not of expressions.
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * The metric selectors of a PromQL expression, in order. Functions, aggregations, keywords, label
 * lists (`by (...)`), strings, numbers, durations, range brackets and Grafana variables (`$job`,
 * `${job}`, `$__rate_interval`) are skipped.
 */
export function selectorsIn(expr: string): Selector[] {
  const selectors: Selector[] = [];
  let i = 0;
  const peek = (from: number): string => expr.slice(from).trimStart().charAt(0);
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (c === '"' || c === "'" || c === '`') i = afterString(expr, i);
    else if (c === '#') i = lineEnd(expr, i);
    else if (c === '[') i = closing(expr, i, ']');
    else if (c === '{') i = closing(expr, i, '}');
    else if (c === '$') i = afterVariable(expr, i);
    else if (/[0-9.]/.test(c)) i = afterWord(expr, i, /[0-9a-zA-Z_.]/);
    else if (/[a-zA-Z_:]/.test(c)) {
      const end = afterWord(expr, i, /[a-zA-Z0-9_:]/);
      const word = expr.slice(i, end);
      const next = expr.indexOf(peek(end), end);
      if (peek(end) === '(') {
        // A function or an aggregation reads expressions; a modifier's list names labels.
        i = LABEL_LISTS.has(word) ? closing(expr, next, ')') : end;
      } else if (KEYWORDS.has(word.toLowerCase())) {
        i = end;
      } else if (peek(end) === '{') {
        i = closing(expr, next, '}');
        selectors.push({ metric: word, matchers: expr.slice(next + 1, i - 1) });
      } else {
        i = end;
        selectors.push({ metric: word, matchers: '' });
      }
    } else i++;
  }
  return selectors;
}

/** The distinct metric names a PromQL expression reads, in order of first use. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(selectorsIn(expr).map((s) => s.metric))];
}

/** A metric as `registry.getMetricsAsJSON()` describes it (its type is a string at run time). */
export interface RegisteredMetric {
  name: string;
  type: unknown;
}

/**
 * Every series name the metrics appear under on /metrics: a histogram as `_bucket`, `_sum` and
 * `_count`, a summary as itself, `_sum` and `_count`, counters and gauges under their own name.
 */
export function exportedSeriesNames(metrics: readonly RegisteredMetric[]): Set<string> {
  const names = new Set<string>();
  for (const { name, type } of metrics) {
    const kind = String(type);
    if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

/** The index just past the quoted string that starts at `start` (backslash escapes, except in backquotes). */
function afterString(expr: string, start: number): number {
  const quote = expr.charAt(start);
  let i = start + 1;
  while (i < expr.length && expr.charAt(i) !== quote) i += quote !== '`' && expr.charAt(i) === '\\' ? 2 : 1;
  return i + 1;
}

/** The index just past the `close` that ends the bracket opened at `start`, skipping strings inside. */
function closing(expr: string, start: number, close: string): number {
  const open = expr.charAt(start);
  let depth = 0;
  let i = start;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (c === '"' || c === "'" || c === '`') {
      i = afterString(expr, i);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
    i++;
  }
  return expr.length;
}

/** The index just past a Grafana variable: `$name`, `${name}` or `${name:format}`. */
function afterVariable(expr: string, start: number): number {
  if (expr.charAt(start + 1) === '{') return closing(expr, start + 1, '}');
  return afterWord(expr, start + 1, /[a-zA-Z0-9_]/);
}

/** The index of the first character from `start` on that `part` does not match. */
function afterWord(expr: string, start: number, part: RegExp): number {
  let i = start;
  while (i < expr.length && part.test(expr.charAt(i))) i++;
  return i;
}

/** The index of the end of the line that holds `start`. */
function lineEnd(expr: string, start: number): number {
  const end = expr.indexOf('\n', start);
  return end === -1 ? expr.length : end;
}
