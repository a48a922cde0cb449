import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import { BatchFileBuilder, fitsAlone, type BatchFile, type BatchRow } from '../../../connector/core/target-api/batch-file.js';
import { MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS } from '../../../connector/core/target-api/limits.js';
import { parseBatchFile } from '../../../connector/tools/sandbox/batch-file.js';

const TARGET_LIMITS = { maxBytes: MAX_BATCH_FILE_BYTES, maxRows: MAX_BATCH_ROWS };

function build(rows: BatchRow[], limits?: { maxRows?: number; maxBytes?: number }): BatchFile {
  const builder = new BatchFileBuilder(limits);
  for (const row of rows) builder.add(row);
  return builder.build();
}

/** What the sandbox's Target reads from the file: each row's id and the attributes it sets. */
function readBySandbox(file: BatchFile): BatchRow[] {
  const bytes = Buffer.from(file.text, 'utf8');
  const parsed = parseBatchFile({ size: bytes.length, bytes }, TARGET_LIMITS);
  if (!parsed.ok) throw new Error(`sandbox refused the file: ${parsed.message}`);
  const { ids, names, cells } = parsed.file;
  expect(parsed.file.header[0]).toBe('thirdPartyId');
  return ids.map((id, row) => ({
    id,
    attributes: Object.fromEntries(names.map((name, c) => [name, cells[row * names.length + c] ?? '']).filter(([, value]) => value !== '')),
  }));
}

/** The attributes a row really sets: empty values leave a parameter unset. */
function set(row: BatchRow): BatchRow {
  return { id: row.id, attributes: Object.fromEntries(Object.entries(row.attributes).filter(([, value]) => value !== '')) };
}

describe('BatchFileBuilder', () => {
  it('percent-encodes names, values and ids so that , % & + = newlines, Swedish and emoji survive', () => {
    const attributes = {
      comma: '1,2',
      percent: '100%',
      amp: 'Ek & Ask',
      plus: '1+1 = 2',
      lines: 'rad 1\nrad 2\r\nrad 3',
      swedish: 'Åsa Öberg, Ängelholm',
      emoji: '🎉 👍🏽 👨‍👩‍👧',
      'namn, med=tecken&å': 'x',
    };
    const rows = [
      { id: 'Åsa@example.com', attributes },
      { id: 'id,with=odd&chars%', attributes: { plus: '+' } },
    ];
    const file = build(rows);

    const lines = file.text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(file.text).toMatch(/^[\x21-\x7e\n]*$/);
    const cells = lines.slice(0, -1).map((line) => line.split(','));
    const width = Object.keys(attributes).length + 1;
    for (const row of cells) expect(row).toHaveLength(width);
    expect(cells[0]?.map(decodeURIComponent)).toEqual(['batch=thirdPartyId', ...Object.keys(attributes)]);
    expect(cells[1]?.map(decodeURIComponent)).toEqual([rows[0]?.id, ...Object.values(attributes)]);
    expect(cells[2]?.map(decodeURIComponent)).toEqual([rows[1]?.id, '', '', '', '+', '', '', '', '']);

    expect(readBySandbox(file)).toEqual(rows);
    expect(file.ids).toEqual(rows.map((r) => r.id));
  });

  it('lists attribute names in first-seen order and gives every row one cell per column, empty where unset', () => {
    const file = build([
      { id: 'c-1', attributes: { a: '1' } },
      { id: 'c-2', attributes: { b: '2' } },
      { id: 'c-3', attributes: { c: '', a: '3' } },
      { id: 'c-4', attributes: {} },
      { id: 'c-5', attributes: { b: '5', d: '6' } },
    ]);
    expect(file.text).toBe('batch=thirdPartyId,a,b,d\nc-1,1,,\nc-2,,2,\nc-3,3,,\nc-4,,,\nc-5,,5,6\n');
    expect(file.bytes).toBe(file.text.length);
    expect(readBySandbox(file).map((r) => r.attributes)).toEqual([{ a: '1' }, { b: '2' }, { a: '3' }, {}, { b: '5', d: '6' }]);
  });

  it('knows its exact size in bytes after every row, and the sandbox reads back every row', () => {
    const name = fc.oneof(fc.constantFrom('city', 'tier', 'a,b', 'år', '🎉'), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }));
    const value = fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
    const row = fc.record({ id: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), attributes: fc.dictionary(name, value, { maxKeys: 5 }) });
    const rows = fc.uniqueArray(row, { selector: (r) => r.id, minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(rows, (batch) => {
        const valid = batch.filter((r) => fitsAlone(r));
        fc.pre(valid.length > 0);
        const builder = new BatchFileBuilder();
        for (const r of valid) {
          builder.add(r);
          expect(builder.bytes).toBe(Buffer.byteLength(builder.build().text));
        }
        const file = builder.build();
        expect(file.bytes).toBe(Buffer.byteLength(file.text));
        expect(builder.rows).toBe(valid.length);
        expect(readBySandbox(file)).toEqual(valid.map(set));
      }),
      { numRuns: 300 },
    );
  });

  it('fits a row exactly when the file with it stays under maxBytes, counting the comma a new column adds to every row', () => {
    const builder = new BatchFileBuilder();
    builder.add({ id: 'r1', attributes: { a: '1' } });
    builder.add({ id: 'r2', attributes: { a: '2' } });
    const before = builder.bytes;
    // A new column `b`: `,b` in the header, a comma on both rows, and the row `r3,,x\n` itself.
    const after = before + 2 + 2 + 'r3,,x\n'.length;
    const next = { id: 'r3', attributes: { b: 'x' } };

    const exact = new BatchFileBuilder({ maxBytes: after });
    const roomy = new BatchFileBuilder({ maxBytes: after + 1 });
    for (const b of [exact, roomy]) {
      b.add({ id: 'r1', attributes: { a: '1' } });
      b.add({ id: 'r2', attributes: { a: '2' } });
    }
    expect(exact.fits(next)).toBe(false);
    expect(() => exact.add(next)).toThrow(RangeError);
    expect(exact.rows).toBe(2);
    expect(roomy.fits(next)).toBe(true);
    roomy.add(next);
    expect(roomy.bytes).toBe(after);
    expect(Buffer.byteLength(roomy.build().text)).toBe(after);
  });

  it('agrees with the real size on every fits decision under random small limits', () => {
    const row = fc.record({
      id: fc.stringMatching(/^[a-z0-9]{1,6}$/),
      attributes: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'å', 'x,y'), fc.string({ unit: 'grapheme', maxLength: 8 }), { maxKeys: 3 }),
    });
    const rows = fc.uniqueArray(row, { selector: (r) => r.id, minLength: 1, maxLength: 15 });
    fc.assert(
      fc.property(rows, fc.integer({ min: 20, max: 400 }), fc.integer({ min: 1, max: 10 }), (batch, maxBytes, maxRows) => {
        const limited = new BatchFileBuilder({ maxBytes, maxRows });
        const taken: BatchRow[] = [];
        for (const r of batch) {
          const withRow = build([...taken, r]);
          const expected = Buffer.byteLength(withRow.text) < maxBytes && taken.length + 1 <= maxRows;
          expect(limited.fits(r)).toBe(expected);
          if (expected) {
            limited.add(r);
            taken.push(r);
          } else {
            expect(() => limited.add(r)).toThrow(RangeError);
          }
        }
        if (taken.length > 0) expect(limited.build().text).toBe(build(taken).text);
      }),
      { numRuns: 300 },
    );
  });

  it('folds a later update into a row in place, and refuses exactly the folds that would reach maxBytes', () => {
    // Updates carry no empty values (the mapping omits them), so a fold never empties a column.
    const attributes = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'å', 'x,y'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), { maxKeys: 3 });
    const op = fc.record({ id: fc.constantFrom('p1', 'p2', 'p3', 'p4'), attributes });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 20 }), fc.integer({ min: 20, max: 400 }), (ops, maxBytes) => {
        const builder = new BatchFileBuilder({ maxBytes });
        const rows = new Map<string, BatchRow>();
        for (const { id, attributes: update } of ops) {
          const known = rows.get(id);
          const next = { id, attributes: { ...known?.attributes, ...update } };
          // Column order does not change a file's size: a file built afresh from the rows tells the size.
          const fits = Buffer.byteLength(build([...rows.values()].map((r) => (r.id === id ? next : r)).concat(known ? [] : [next])).text) < maxBytes;
          if (known) expect(builder.fold(id, update)).toBe(fits);
          else if (builder.fits(next)) builder.add(next);
          else continue;
          if (fits) rows.set(id, next);
          if (rows.size === 0) continue;
          const file = builder.build();
          expect(file.bytes).toBe(Buffer.byteLength(file.text));
          expect(readBySandbox(file)).toEqual([...rows.values()].map(set));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('folds into its own copy of a row, refuses a fold that could not go by bulk, and one for a row it does not have', () => {
    const builder = new BatchFileBuilder();
    const first = { x: '1' };
    builder.add({ id: 'a', attributes: first });
    expect(() => builder.fold('b', { x: '2' })).toThrow(/no row for thirdPartyId b/);
    expect(builder.fold('a', { y: '2' })).toBe(true);
    expect(builder.fold('a', { z: 'lone \ud800' })).toBe(false);
    // The same for a column the file already has, with a value of another column in the same update.
    expect(builder.fold('a', { y: '3', x: 'lone \ud800' })).toBe(false);
    expect(builder.fold('a', { '': 'nameless' })).toBe(false);
    expect(first).toEqual({ x: '1' });
    expect(builder.attributesOf('a')).toEqual({ x: '1', y: '2' });
    expect(builder.build().text).toBe('batch=thirdPartyId,x,y\na,1,2\n');
  });

  it('stops at maxRows', () => {
    const builder = new BatchFileBuilder({ maxRows: 2 });
    builder.add({ id: 'a', attributes: { x: '1' } });
    builder.add({ id: 'b', attributes: { x: '2' } });
    expect(builder.fits({ id: 'c', attributes: { x: '3' } })).toBe(false);
    expect(() => builder.add({ id: 'c', attributes: { x: '3' } })).toThrow(RangeError);
    expect(builder.build().ids).toEqual(['a', 'b']);
  });

  it('adds the row it is given even right after being asked about another', () => {
    const builder = new BatchFileBuilder();
    expect(builder.fits({ id: 'asked', attributes: { a: 'question' } })).toBe(true);
    builder.add({ id: 'added', attributes: { b: 'answer' } });
    expect(builder.build().text).toBe('batch=thirdPartyId,b\nadded,answer\n');
  });

  it('refuses a second row for the same thirdPartyId and a file without rows', () => {
    const builder = new BatchFileBuilder();
    expect(() => builder.build()).toThrow(RangeError);
    builder.add({ id: 'c-1', attributes: { a: '1' } });
    expect(() => builder.add({ id: 'c-1', attributes: { a: '2' } })).toThrow(/one row per thirdPartyId; row 2 repeats .* row 1/);
    expect(builder.build().text).toBe('batch=thirdPartyId,a\nc-1,1\n');
  });

  it('throws UnmappableEventError naming the attribute, without its value, for text that is not well-formed Unicode', () => {
    const builder = new BatchFileBuilder();
    const row = { id: 'c-1', attributes: { note: 'secret \ud800 text' } };
    expect(() => builder.fits(row)).toThrow(UnmappableEventError);
    expect(() => builder.add(row)).toThrow(/"note" is not well-formed Unicode text/);
    expect(() => builder.add(row)).not.toThrow(/secret/);
    expect(builder.rows).toBe(0);
  });
});

describe('fitsAlone', () => {
  it('accepts a row that alone fits the limits and refuses one that alone reaches maxBytes', () => {
    const row = { id: 'c-1', attributes: { note: 'x'.repeat(50) } };
    const size = build([row]).bytes;
    expect(fitsAlone(row)).toBe(true);
    expect(fitsAlone(row, { maxBytes: size + 1 })).toBe(true);
    expect(fitsAlone(row, { maxBytes: size })).toBe(false);
  });

  it('refuses ids Target does not take: empty, over 256 characters, with + or /', () => {
    const ok = (id: string): boolean => fitsAlone({ id, attributes: { a: '1' } });
    expect(ok('a'.repeat(256))).toBe(true);
    expect(ok('Åsa@example.com')).toBe(true);
    expect(ok('')).toBe(false);
    expect(ok('a'.repeat(257))).toBe(false);
    // 200 characters, 400 UTF-16 units: refused, since one bad id costs the whole file.
    expect(ok('🎉'.repeat(200))).toBe(false);
    expect(ok('a+b')).toBe(false);
    expect(ok('a/b')).toBe(false);
  });

  it('refuses a row with an empty attribute name or text that cannot be encoded', () => {
    expect(fitsAlone({ id: 'c-1', attributes: { '': 'x' } })).toBe(false);
    expect(fitsAlone({ id: 'c-1', attributes: { '': '' } })).toBe(true);
    expect(fitsAlone({ id: 'c-1', attributes: { a: '\udc00' } })).toBe(false);
    expect(fitsAlone({ id: '\ud800', attributes: { a: '1' } })).toBe(false);
  });

  it('says what encoding the row says, at any limit: the quick estimate never accepts a row that does not fit', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ',', '%', 'é', '€', '🎉', '\ud800'), maxLength: 12 });
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9@.-]{1,20}$/),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), text, { maxKeys: 4 }),
        fc.integer({ min: 1, max: 400 }),
        (id, attributes, maxBytes) => {
          const row = { id, attributes };
          let exact: boolean;
          try {
            exact = new BatchFileBuilder({ maxBytes }).fits(row);
          } catch (error) {
            if (!(error instanceof UnmappableEventError)) throw error;
            exact = false;
          }
          expect(fitsAlone(row, { maxBytes })).toBe(exact);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
