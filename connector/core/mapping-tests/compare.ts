/**
 * Compares what a mapping test case expects with what the event became, and says how they differ
 * as a diff: `-` the expected line, `+` the actual one, one attribute per line.
 */
import type { CaseOutcome, CaseUpdate } from './cases.js';

/** Why a case failed: a one-line message and the diff lines under it. */
export interface Mismatch {
  message: string;
  diff: string[];
}

function quoted(text: string): string {
  return JSON.stringify(text);
}

function identityText(update: CaseUpdate): string {
  return `${update.identity.kind} ${quoted(update.identity.value)}`;
}

function count(n: number): string {
  return n === 1 ? '1 update' : `${n} updates`;
}

/** One line naming an outcome, for diffs between outcomes of different kinds. */
function summary(outcome: CaseOutcome): string {
  if (outcome.kind !== 'updates') return `${outcome.kind}: ${outcome.reason}`;
  return `updates: ${count(outcome.updates.length)} (${outcome.updates.map(identityText).join(', ')})`;
}

/** Every line of an update, each marked with `sign` (an update only one side has). */
function wholeUpdate(sign: '-' | '+', n: number, update: CaseUpdate): string[] {
  return [
    `${sign} update ${n}: ${identityText(update)}, route ${update.route}`,
    ...Object.entries(update.attributes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => `${sign}   ${name}: ${quoted(value)}`),
  ];
}

/** The lines where two updates at the same place differ; empty when they are equal. */
function updateDiff(n: number, expected: CaseUpdate, actual: CaseUpdate): string[] {
  const lines: string[] = [];
  if (expected.identity.kind !== actual.identity.kind || expected.identity.value !== actual.identity.value) {
    lines.push(`-   identity: ${identityText(expected)}`, `+   identity: ${identityText(actual)}`);
  }
  if (expected.route !== actual.route) lines.push(`-   route: ${expected.route}`, `+   route: ${actual.route}`);
  const names = [...new Set([...Object.keys(expected.attributes), ...Object.keys(actual.attributes)])].sort();
  for (const name of names) {
    const want = expected.attributes[name];
    const got = actual.attributes[name];
    if (want === got) continue;
    if (want !== undefined) lines.push(`-   ${name}: ${quoted(want)}`);
    if (got !== undefined) lines.push(`+   ${name}: ${quoted(got)}`);
  }
  return lines.length === 0 ? [] : [`  update ${n}: ${identityText(actual)}`, ...lines];
}

function updatesMismatch(expected: CaseUpdate[], actual: CaseUpdate[]): Mismatch | undefined {
  const diff: string[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length); i += 1) {
    const want = expected[i];
    const got = actual[i];
    if (want && got) diff.push(...updateDiff(i + 1, want, got));
    else if (want) diff.push(...wholeUpdate('-', i + 1, want));
    else if (got) diff.push(...wholeUpdate('+', i + 1, got));
  }
  if (diff.length === 0) return undefined;
  const message = expected.length === actual.length ? 'the updates differ' : `expected ${count(expected.length)}, got ${count(actual.length)}`;
  return { message, diff };
}

/**
 * How `actual` fails `expected`, or undefined when it meets it: updates must be equal (identity,
 * route, every attribute and no other; one update per mapping, in file order); a filter or dead-letter reason must
 * contain the expected text.
 */
export function compareOutcome(expected: CaseOutcome, actual: CaseOutcome): Mismatch | undefined {
  if (expected.kind === 'updates' && actual.kind === 'updates') return updatesMismatch(expected.updates, actual.updates);
  if (expected.kind === actual.kind && expected.kind !== 'updates' && actual.kind !== 'updates') {
    if (actual.reason.includes(expected.reason)) return undefined;
    return { message: `the ${actual.kind} reason does not contain ${quoted(expected.reason)}`, diff: [`- ${summary(expected)}`, `+ ${summary(actual)}`] };
  }
  const wanted = expected.kind === 'updates' ? count(expected.updates.length) : expected.kind;
  const got = actual.kind === 'updates' ? count(actual.updates.length) : actual.kind;
  return { message: `expected ${wanted}, got ${got}`, diff: [`- ${summary(expected)}`, `+ ${summary(actual)}`] };
}
