import { describe, expect, it } from 'vitest';
import { parseBatchFile, type BatchLimits } from '../../../connector/tools/sandbox/batch-file.js';
import { MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS } from '../../../connector/core/target-api/limits.js';

const TARGET_LIMITS: BatchLimits = { maxBytes: MAX_BATCH_FILE_BYTES, maxRows: MAX_BATCH_ROWS };

function parse(text: string | Buffer, limits: BatchLimits = TARGET_LIMITS) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return parseBatchFile({ size: bytes.length, bytes }, limits);
}

function refused(text: string | Buffer, limits?: BatchLimits) {
  const parsed = parse(text, limits);
  if (parsed.ok) throw new Error('expected the file to be refused');
  return { status: parsed.status, message: parsed.message };
}

const tricky = {
  comma: 'Malmö, Skåne',
  percent: '100% sure',
  ampersand: 'Ek & Ask',
  plus: '1+1=2',
  newline: 'first line\nsecond line\r\nthird',
  swedish: 'Åsa Öberg från Ängelholm, åäö ÅÄÖ',
  emoji: '🎉 👍🏽 👨‍👩‍👧',
};

describe('parseBatchFile', () => {
  it('decodes UTF-8 percent-encoded names and values, so a comma or newline inside a cell survives', () => {
    const names = Object.keys(tricky);
    const file = [
      `batch=thirdPartyId,${names.map(encodeURIComponent).join(',')},na%C3%AFve`,
      `c-1,${Object.values(tricky).map(encodeURIComponent).join(',')},x`,
      `${encodeURIComponent('Åsa@example.com')},${names.map(() => '').join(',')},y`,
    ].join('\n');
    expect(parse(file)).toEqual({
      ok: true,
      file: {
        kind: 'mbox3rdPartyId',
        header: ['thirdPartyId', ...names, 'naïve'],
        names: [...names, 'naïve'],
        ids: ['c-1', 'Åsa@example.com'],
        cells: [...Object.values(tricky), 'x', ...names.map(() => ''), 'y'],
      },
    });
  });

  it('reads a raw + as a space and %2B as a plus, as form encoding does', () => {
    expect(parse('batch=thirdPartyId,a,b\nc,1+1,1%2B1')).toMatchObject({ ok: true, file: { cells: ['1 1', '1+1'] } });
  });

  it('keeps raw UTF-8 text as it is', () => {
    expect(parse('batch=thirdPartyId,stad\nc,Malmö 🎉')).toMatchObject({ ok: true, file: { cells: ['Malmö 🎉'] } });
  });

  it('keeps empty cells empty: the parameter stays unset for that row', () => {
    expect(parse('batch=thirdPartyId,a,b,c\nr1,,2,\nr2,,,')).toMatchObject({
      ok: true,
      file: { ids: ['r1', 'r2'], cells: ['', '2', '', '', '', ''] },
    });
  });

  it('accepts CRLF line ends, a trailing newline and blank lines', () => {
    expect(parse('batch=thirdPartyId,a\r\nr1,1\r\n\r\n\nr2,2\r\n')).toMatchObject({
      ok: true,
      file: { ids: ['r1', 'r2'], cells: ['1', '2'] },
    });
  });

  it('reads pcId files into the mboxPC namespace', () => {
    expect(parse('batch=pcId,a\npc.1_0,1')).toMatchObject({ ok: true, file: { kind: 'mboxPC', header: ['pcId', 'a'], ids: ['pc.1_0'] } });
  });

  it('keeps parameters named like Object.prototype members as plain names', () => {
    expect(parse('batch=thirdPartyId,__proto__,constructor\nc,1,2')).toMatchObject({
      ok: true,
      file: { names: ['__proto__', 'constructor'], cells: ['1', '2'] },
    });
  });

  it.each([
    ['an empty file', '', 'line 1: the batch file must start with the header batch=thirdPartyId,<name>,… or batch=pcId,<name>,…'],
    ['a header without batch=', 'thirdPartyId,a\nc,1', 'line 1: the batch file must start with the header batch=thirdPartyId,<name>,… or batch=pcId,<name>,…'],
    [
      'a blank line before the header',
      '\nbatch=thirdPartyId,a\nc,1',
      'line 1: the batch file must start with the header batch=thirdPartyId,<name>,… or batch=pcId,<name>,…',
    ],
    ['another identity column', 'batch=mbox3rdPartyId,a\nc,1', 'line 1 column 1: the first column must be thirdPartyId or pcId, got "mbox3rdPartyId"'],
    ['an empty parameter name', 'batch=thirdPartyId,a,,b\nc,1,2,3', 'line 1 column 3: empty parameter name'],
    ['a duplicate parameter name', 'batch=thirdPartyId,a,b,a\nc,1,2,3', 'line 1 column 4: duplicate parameter name "a" (also column 2)'],
    ['a name duplicated once decoded', 'batch=thirdPartyId,%61,a\nc,1,2', 'line 1 column 3: duplicate parameter name "a" (also column 2)'],
    ['a malformed escape in the header', 'batch=thirdPartyId,%E4\nc,1', 'line 1 column 2: malformed percent-encoding or not UTF-8 in "%E4"'],
    ['only a header', 'batch=thirdPartyId,a\n\n', 'batch file has a header but no rows'],
    ['a row missing a cell', 'batch=thirdPartyId,a,b\nc1,1,2\n\nc2,1\n', 'line 4: row has 2 cells, the header has 3'],
    ['a row with an extra cell', 'batch=thirdPartyId,a\r\nc1,1,2\r\n', 'line 2: row has 3 cells, the header has 2'],
    ['a bad escape', 'batch=thirdPartyId,a,city\nc1,1,Malm%ZZ', 'line 2 column 3 (city): malformed percent-encoding or not UTF-8 in "Malm%ZZ"'],
    ['an escape that is not UTF-8', 'batch=thirdPartyId,a\nc1,%C3%28', 'line 2 column 2 (a): malformed percent-encoding or not UTF-8 in "%C3%28"'],
    ['a truncated UTF-8 escape', 'batch=thirdPartyId,a\nc1,ok\nc2,%C3', 'line 3 column 2 (a): malformed percent-encoding or not UTF-8 in "%C3"'],
    ['a bad escape in an identity', 'batch=thirdPartyId,a\n%G1,1', 'line 2 column 1 (thirdPartyId): malformed percent-encoding or not UTF-8 in "%G1"'],
    ['an empty identity', 'batch=thirdPartyId,a\n,1', 'line 2 column 1: invalid thirdPartyId "": empty'],
    ['an identity with /', 'batch=thirdPartyId,a\nok,1\na%2Fb,1', 'line 3 column 1: invalid thirdPartyId "a/b": contains + or /'],
    ['an identity with an encoded +', 'batch=thirdPartyId,a\na%2Bb,1', 'line 2 column 1: invalid thirdPartyId "a+b": contains + or /'],
    [
      'a 257-character identity',
      `batch=thirdPartyId,a\n${'i'.repeat(257)},1`,
      `line 2 column 1: invalid thirdPartyId "${'i'.repeat(60)}…": longer than 256 characters`,
    ],
    ['an empty pcId', 'batch=pcId,a\n,1', 'line 2 column 1: invalid pcId "": empty'],
  ])('refuses %s with 400 naming where', (_case, text, message) => {
    expect(refused(text)).toEqual({ status: 400, message });
  });

  it('accepts an identity of exactly 256 characters', () => {
    expect(parse(`batch=thirdPartyId,a\n${'i'.repeat(256)},1`)).toMatchObject({ ok: true });
  });

  it('names the line holding bytes that are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('batch=thirdPartyId,a\nc1,1\nc2,'), Buffer.from([0xff, 0xfe]), Buffer.from('\nc3,3')]);
    expect(refused(bytes)).toEqual({ status: 400, message: 'line 3: not valid UTF-8' });
  });

  describe('limits', () => {
    const small: BatchLimits = { maxBytes: 40, maxRows: 3 };

    it('accepts a file one byte under the size limit and refuses one of exactly the limit with 413', () => {
      const under = 'batch=thirdPartyId,a\nc1,1\nc2,'.padEnd(39, '9');
      expect(parse(under, small)).toMatchObject({ ok: true });
      expect(refused(`${under}9`, small)).toEqual({ status: 413, message: 'batch file is 40 bytes; it must be smaller than 40 bytes' });
    });

    it('refuses a body the reader did not keep because it was over the limit, with its size', () => {
      expect(parseBatchFile({ size: MAX_BATCH_FILE_BYTES + 7, bytes: undefined }, TARGET_LIMITS)).toEqual({
        ok: false,
        status: 413,
        message: `batch file is ${MAX_BATCH_FILE_BYTES + 7} bytes; it must be smaller than 52428800 bytes`,
      });
    });

    it('counts rows without blank lines and refuses one row over the limit with 413', () => {
      const limits = { maxBytes: 1000, maxRows: 3 };
      expect(parse('batch=thirdPartyId\na\n\nb\nc\n', limits)).toMatchObject({ ok: true, file: { ids: ['a', 'b', 'c'] } });
      expect(refused('batch=thirdPartyId\na\nb\n\nc\nd\n', limits)).toEqual({ status: 413, message: 'batch file has 4 rows; at most 3 are allowed' });
    });

    it('checks the row limit before the rows themselves', () => {
      expect(refused('batch=thirdPartyId,a\nc1\nc2,1\nc3,1\nc4,1', small)).toMatchObject({ status: 413 });
    });

    it("holds Target's own row limit: 500,000 rows pass, 500,001 do not", () => {
      const rows = Array.from({ length: MAX_BATCH_ROWS }, (_, i) => `c${i}`);
      const atLimit = `batch=thirdPartyId\n${rows.join('\n')}\n`;
      const parsed = parse(atLimit);
      expect(parsed.ok && parsed.file.ids.length).toBe(MAX_BATCH_ROWS);
      expect(refused(`${atLimit}one-more\n`)).toEqual({ status: 413, message: 'batch file has 500001 rows; at most 500000 are allowed' });
    });
  });
});
