/**
 * How a mapping test run is reported: a human summary, TAP, or JUnit XML for CI systems (one
 * testcase per case, a failure carrying its message and diff).
 */

/** One case's result; a case file that cannot be read is one failed result named after the file. */
export interface CaseResult {
  file: string;
  line?: number;
  column?: number;
  name: string;
  /** `recorded`: the case had no expectation and `--update` wrote what it produced. */
  status: 'passed' | 'failed' | 'recorded';
  message?: string;
  diff?: string[];
}

export type Reporter = 'pretty' | 'junit' | 'tap';
export const REPORTERS: readonly Reporter[] = ['pretty', 'junit', 'tap'];

/** `file:line:column`, or the file alone when the place is unknown. */
export function placeOf(result: CaseResult): string {
  return result.line === undefined ? result.file : `${result.file}:${result.line}:${result.column ?? 1}`;
}

function counts(results: readonly CaseResult[]): { passed: number; failed: number; recorded: number } {
  const of = (status: CaseResult['status']) => results.filter((r) => r.status === status).length;
  return { passed: of('passed'), failed: of('failed'), recorded: of('recorded') };
}

/** The closing line: how many cases passed, failed and were recorded. */
export function summaryLine(results: readonly CaseResult[]): string {
  const { passed, failed, recorded } = counts(results);
  const parts = [`${passed} passed`, `${failed} failed`, ...(recorded > 0 ? [`${recorded} recorded`] : [])];
  return `${results.length} ${results.length === 1 ? 'case' : 'cases'}: ${parts.join(', ')}`;
}

function byFile(results: readonly CaseResult[]): Map<string, CaseResult[]> {
  const files = new Map<string, CaseResult[]>();
  for (const result of results) files.set(result.file, [...(files.get(result.file) ?? []), result]);
  return files;
}

const MARK: Record<CaseResult['status'], string> = { passed: '✓', failed: '✗', recorded: '●' };

function pretty(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  for (const [file, cases] of byFile(results)) {
    lines.push(file);
    for (const result of cases) {
      lines.push(`  ${MARK[result.status]} ${result.name}${result.status === 'recorded' ? ' (recorded)' : ''}`);
      if (result.status !== 'failed') continue;
      lines.push(`    ${placeOf(result)} ${result.message ?? ''}`.trimEnd());
      for (const line of result.diff ?? []) lines.push(`    ${line}`);
    }
  }
  lines.push('', summaryLine(results));
  return `${lines.join('\n')}\n`;
}

function yamlBlock(text: string, indent: string): string {
  return text
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n');
}

function tap(results: readonly CaseResult[]): string {
  const lines = ['TAP version 13', `1..${results.length}`];
  results.forEach((result, i) => {
    const title = `${result.file} > ${result.name}`.replace(/#/g, '\\#');
    if (result.status !== 'failed') {
      lines.push(`ok ${i + 1} - ${title}${result.status === 'recorded' ? ' # recorded' : ''}`);
      return;
    }
    lines.push(`not ok ${i + 1} - ${title}`, '  ---', `  message: ${JSON.stringify(result.message ?? '')}`, `  at: ${JSON.stringify(placeOf(result))}`);
    if (result.diff?.length) lines.push('  diff: |', yamlBlock(result.diff.join('\n'), '    '));
    lines.push('  ...');
  });
  lines.push(`# ${summaryLine(results)}`);
  return `${lines.join('\n')}\n`;
}

function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[^\t\n\r\u0020-\uffff]/g, ''); // XML 1.0 has no other control characters
}

function junit(results: readonly CaseResult[]): string {
  const { failed } = counts(results);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="mapping tests" tests="${results.length}" failures="${failed}" errors="0">`];
  for (const [file, cases] of byFile(results)) {
    const failures = cases.filter((r) => r.status === 'failed').length;
    lines.push(`  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${failures}" errors="0">`);
    for (const result of cases) {
      const line = result.line === undefined ? '' : ` line="${result.line}"`;
      const open = `    <testcase name="${xml(result.name)}" classname="${xml(file)}" file="${xml(file)}"${line}`;
      if (result.status !== 'failed') {
        lines.push(`${open}/>`);
        continue;
      }
      const body = [placeOf(result), ...(result.diff ?? [])].join('\n');
      lines.push(`${open}>`, `      <failure message="${xml(result.message ?? '')}">${xml(body)}</failure>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** The report of a run in the chosen format. */
export function formatReport(results: readonly CaseResult[], reporter: Reporter): string {
  if (reporter === 'junit') return junit(results);
  if (reporter === 'tap') return tap(results);
  return pretty(results);
}
