import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../connector/observe/logger.js';
import { OTHER_ATTRIBUTES, TruncationReport } from '../../connector/observe/truncation-report.js';

/** A report whose log lines and counted names are kept for the test. */
function report(maxNames?: number) {
  let output = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  const counted: string[] = [];
  const truncations = new TruncationReport(createLogger({ pretty: false, destination }), (attribute) => counted.push(attribute), maxNames);
  const lines = () =>
    output
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; attribute: string });
  return { truncations, counted, lines };
}

describe('TruncationReport', () => {
  it('warns once per attribute, counts every truncated value and sums them up', () => {
    const { truncations, counted, lines } = report();
    truncations.record(['note', 'bio']);
    truncations.record(['note']);
    truncations.record([]);
    truncations.record(['note']);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        attribute: 'profile.note',
        msg: 'values of profile.note are truncated to 256 characters (long_values: truncate); further truncations are counted in tps_values_truncated_total',
      }),
      expect.objectContaining({ level: 40, attribute: 'profile.bio' }),
    ]);
    expect(counted).toEqual(['profile.note', 'profile.bio', 'profile.note', 'profile.note']);
    expect(truncations.summary()).toEqual({ 'profile.note': 3, 'profile.bio': 1 });
  });

  it('names at most maxNames attributes; the rest are counted together, with one warning', () => {
    const { truncations, counted, lines } = report(2);
    truncations.record(['cf_a', 'cf_b', 'cf_c', 'cf_d', 'cf_a']);
    expect(counted).toEqual(['profile.cf_a', 'profile.cf_b', OTHER_ATTRIBUTES, OTHER_ATTRIBUTES, 'profile.cf_a']);
    expect(truncations.summary()).toEqual({ 'profile.cf_a': 2, 'profile.cf_b': 1, [OTHER_ATTRIBUTES]: 2 });
    expect(lines().map((l) => l.msg)).toEqual([
      expect.stringMatching(/^values of profile\.cf_a /),
      expect.stringMatching(/^values of profile\.cf_b /),
      `values of attributes beyond the first 2 are truncated to 256 characters (long_values: truncate); they are counted as attribute "${OTHER_ATTRIBUTES}" in tps_values_truncated_total`,
    ]);
  });
});
