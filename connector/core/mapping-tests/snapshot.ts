/**
 * `test --update`: writes what events became into the cases that expect nothing yet. The new
 * lines are spliced into the text at the end of each case, so that the rest of the file — its
 * comments, quotes and spacing — stays byte for byte as written.
 */
import { Document, isMap, isSeq, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { DEFAULT_ROUTE, type CaseOutcome } from './cases.js';

/** The expectation as a case writes it: route only when it is not the default. */
function expectationText(outcome: CaseOutcome): string {
  const value =
    outcome.kind !== 'updates'
      ? outcome.reason
      : outcome.updates.map((u) => ({
          identity: { [u.identity.kind]: u.identity.value },
          ...(u.route !== DEFAULT_ROUTE && { route: u.route }),
          attributes: u.attributes,
        }));
  const doc = new Document({ [outcome.kind]: value });
  const list: unknown = doc.get(outcome.kind, true);
  // `identity: { mbox3rdPartyId: C-1 }` on one line reads like the mapping's own identity.
  if (isSeq(list)) {
    for (const update of list.items) {
      const identity: unknown = (update as YAMLMap).get('identity', true);
      if (isMap(identity)) identity.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** Where a case's text ends: after the line of its last value (and that line's comment). */
function endOfCase(text: string, item: YAMLMap): number {
  const last = item.items.at(-1) as Pair | undefined;
  const range = (last?.value as { range?: [number, number, number] } | null)?.range ?? item.range ?? [0, 0, 0];
  const end = range[2];
  if (end > 0 && text[end - 1] === '\n') return end;
  const newline = text.indexOf('\n', end);
  return newline === -1 ? text.length : newline + 1;
}

/**
 * Returns `text` with each recorded outcome written into the case at its index in `cases`. Cases
 * that already expect something are left alone: an expectation is never replaced.
 */
export function recordOutcomes(text: string, recorded: ReadonlyArray<{ index: number; outcome: CaseOutcome }>): string {
  const doc = parseDocument(text);
  const list = doc.get('cases', true);
  if (!isSeq(list)) return text;
  const inserts: { at: number; lines: string }[] = [];
  for (const { index, outcome } of recorded) {
    const item = list.items[index];
    if (!isMap(item) || item.items.length === 0 || ['updates', 'filtered', 'dead_letter'].some((key) => item.has(key))) continue;
    const start = item.range?.[0] ?? 0;
    const indent = ' '.repeat(start - (text.lastIndexOf('\n', start - 1) + 1));
    const lines = expectationText(outcome)
      .trimEnd()
      .split('\n')
      .map((line) => `${indent}${line}\n`)
      .join('');
    inserts.push({ at: endOfCase(text, item), lines });
  }
  let out = text;
  for (const { at, lines } of inserts.sort((a, b) => b.at - a.at)) {
    const before = out.slice(0, at);
    out = `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${lines}${out.slice(at)}`;
  }
  return out;
}
