import { describe, expect, it } from 'vitest';
import { decodeOmitList, encodeOmitList, omitSuperseded, SUPERSEDED_REASON, SupersededIndex } from '../../../connector/core/pipeline/superseded.js';
import type { MappingOutcome } from '../../../connector/core/mapping/index.js';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import type { IdentityKind } from '../../../connector/core/profile.js';

const TOPIC = 'crm.customer.updated';

function update(id: string, attributes: Record<string, string>, kind: IdentityKind = 'mbox3rdPartyId'): MappingOutcome {
  return { kind: 'update', update: { identity: { kind, value: id }, attributes } };
}

const FILTERED: MappingOutcome = { kind: 'filtered', reason: 'when: eventType' };
const FAILED: MappingOutcome = { kind: 'error', error: new UnmappableEventError('no identity') };

function at(offset: number, partition = 0, topic = TOPIC) {
  return { topic, partition, offset };
}

/** An index with one letter per entry (all dead letters of the replay) and the later events recorded in order. */
function indexOf(letters: Array<[number, MappingOutcome[]]>, later: Array<[number, MappingOutcome[]]>, otherDeadLetters: number[] = []): SupersededIndex {
  const index = new SupersededIndex();
  for (const [offset] of letters) index.addDeadLetter(at(offset));
  for (const offset of otherDeadLetters) index.addDeadLetter(at(offset));
  for (const [offset, outcomes] of letters) index.addLetter(at(offset), outcomes);
  for (const [offset, outcomes] of later) index.recordLater(at(offset), outcomes);
  return index;
}

describe('the tps.replay.omit header', () => {
  it('encodes identities and names sorted, without empty entries, and decodes back', () => {
    const omit = new Map([
      ['mbox3rdPartyId:C-2', new Set(['tier', 'email'])],
      ['mbox3rdPartyId:C-1', new Set(['lastUpdated'])],
      ['mboxPC:C-1', new Set<string>()],
    ]);
    const text = encodeOmitList(omit);
    expect(text).toBe('{"mbox3rdPartyId:C-1":["lastUpdated"],"mbox3rdPartyId:C-2":["email","tier"]}');
    expect(decodeOmitList(text)).toEqual(
      new Map([
        ['mbox3rdPartyId:C-1', new Set(['lastUpdated'])],
        ['mbox3rdPartyId:C-2', new Set(['email', 'tier'])],
      ]),
    );
    expect(encodeOmitList(new Map())).toBe('{}');
  });

  it('keeps identity values and names with any characters intact', () => {
    const omit = new Map([['mbox3rdPartyId:Åsa "x":y', new Set(['a,b', 'ö'])]]);
    expect(decodeOmitList(encodeOmitList(omit))).toEqual(omit);
  });

  it('reads as absent when missing or malformed', () => {
    expect(decodeOmitList(undefined)).toBeUndefined();
    for (const bad of [
      '',
      'not json',
      '[]',
      'null',
      '42',
      '"x"',
      '{"k":"tier"}',
      '{"k":[1]}',
      '{"k":["tier",null]}',
      '{"k":{"tier":true}}',
      '{"a":["x"],"b":5}',
    ]) {
      expect(decodeOmitList(bad), bad).toBeUndefined();
    }
    expect(decodeOmitList('{}')).toEqual(new Map());
  });
});

describe('omitSuperseded', () => {
  const outcomes = [update('C-1', { tier: 'bronze', email: 'a@example.com', lastUpdated: '2026-01-05' }), FILTERED, FAILED];

  it('returns the outcomes as they are without a header', () => {
    expect(omitSuperseded(outcomes, undefined)).toBe(outcomes);
  });

  it('removes only the listed attributes, only from updates of the listed identity', () => {
    const header = '{"mbox3rdPartyId:C-1":["tier","lastUpdated","unknown"],"mbox3rdPartyId:C-2":["email"]}';
    expect(omitSuperseded([...outcomes, update('C-2', { tier: 'gold', email: 'b@example.com' })], header)).toEqual([
      update('C-1', { email: 'a@example.com' }),
      FILTERED,
      FAILED,
      update('C-2', { tier: 'gold' }),
    ]);
  });

  it('tells identity kinds apart', () => {
    const header = '{"mboxPC:C-1":["tier"]}';
    expect(omitSuperseded([update('C-1', { tier: 'x' }), update('C-1', { tier: 'y', email: 'e' }, 'mboxPC')], header)).toEqual([
      update('C-1', { tier: 'x' }),
      update('C-1', { email: 'e' }, 'mboxPC'),
    ]);
  });

  it('turns an update left with nothing into a filtered outcome', () => {
    const header = '{"mbox3rdPartyId:C-1":["tier","email","lastUpdated"]}';
    expect(omitSuperseded(outcomes, header)).toEqual([{ kind: 'filtered', reason: SUPERSEDED_REASON }, FILTERED, FAILED]);
  });

  it('ignores a malformed header: the event applies whole', () => {
    expect(omitSuperseded(outcomes, '{"mbox3rdPartyId:C-1":"tier"}')).toBe(outcomes);
    expect(omitSuperseded(outcomes, '{truncated')).toBe(outcomes);
  });

  it('does not change the outcomes it was given', () => {
    const given = [update('C-1', { tier: 'bronze', email: 'a@example.com' })];
    omitSuperseded(given, '{"mbox3rdPartyId:C-1":["tier"]}');
    expect(given).toEqual([update('C-1', { tier: 'bronze', email: 'a@example.com' })]);
  });
});

describe('SupersededIndex', () => {
  const bronze = [update('C', { tier: 'bronze', lastUpdated: '2026-01-05', email: 'a@example.com' })];

  it('BRONZE then PLATINUM: the letter loses the attributes the later event set, keeps the others', () => {
    const index = indexOf([[3, bronze]], [[5, [update('C', { tier: 'platinum', lastUpdated: '2026-01-06' })]]]);
    expect(index.decide(at(3), bronze, undefined)).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["lastUpdated","tier"]}' });
  });

  it('replays a letter whole when no later event set any of its attributes', () => {
    const index = indexOf([[3, bronze]], [[4, [update('C', { city: 'Malmö' })]]]);
    expect(index.decide(at(3), bronze, undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('skips a letter every attribute of which a later event set', () => {
    const index = indexOf(
      [[3, bronze]],
      [
        [4, [update('C', { tier: 'gold' })]],
        [9, [update('C', { lastUpdated: '2026-02-01', email: 'new@example.com', city: 'Lund' })]],
      ],
    );
    expect(index.decide(at(3), bronze, undefined)).toEqual({ action: 'superseded' });
  });

  it('counts only events after the letter, on its partition, for its profile', () => {
    const other = [update('D', { tier: 'silver' })];
    const index = new SupersededIndex();
    index.addDeadLetter(at(2));
    index.addDeadLetter(at(6));
    index.addLetter(at(2), other);
    index.addLetter(at(6), bronze);
    // Read from after the earliest letter: offset 4 is before the letter at 6.
    index.recordLater(at(4), [update('C', { tier: 'gold' })]);
    index.recordLater(at(7), [update('C', { email: 'x@example.com' }, 'mboxPC')]);
    index.recordLater(at(8), [update('E', { lastUpdated: '2026-03-01' })]);
    index.recordLater(at(9, 1), [update('C', { lastUpdated: '2026-03-01' })]);
    index.recordLater(at(9, 0, 'other.topic'), [update('C', { lastUpdated: '2026-03-01' })]);
    expect(index.decide(at(6), bronze, undefined)).toEqual({ action: 'replay', omit: undefined });
    expect(index.decide(at(2), other, undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('a later event that is a dead letter itself sets nothing (it is replayed after this one)', () => {
    const platinum = [update('C', { tier: 'platinum', lastUpdated: '2026-01-06', email: 'b@example.com' })];
    const index = indexOf(
      [
        [3, bronze],
        [5, platinum],
      ],
      [[5, platinum]],
    );
    expect(index.decide(at(3), bronze, undefined)).toEqual({ action: 'replay', omit: undefined });
    const unmatched = indexOf([[3, bronze]], [[5, platinum]], [5]);
    expect(unmatched.decide(at(3), bronze, undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('events that fail to map, and filtered ones, set nothing', () => {
    const index = indexOf(
      [[3, bronze]],
      [
        [4, [update('C', { tier: 'gold' }), FAILED]],
        [5, [FILTERED]],
        [6, [{ kind: 'filtered', reason: SUPERSEDED_REASON }]],
      ],
    );
    expect(index.decide(at(3), bronze, undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('trims each identity of a letter on its own', () => {
    const both = [update('C', { tier: 'bronze', email: 'a@example.com' }), update('pc-1', { tier: 'bronze' }, 'mboxPC')];
    const index = indexOf([[3, both]], [[4, [update('C', { tier: 'gold' })]]]);
    expect(index.decide(at(3), both, undefined)).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["tier"]}' });
  });

  it('keeps what an earlier replay left out, adding what later events set since', () => {
    const index = indexOf([[20, bronze]], [[21, [update('C', { email: 'c@example.com' })]]]);
    const carried = '{"mbox3rdPartyId:C":["tier"]}';
    expect(index.decide(at(20), bronze, carried)).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["email","tier"]}' });
    expect(index.decide(at(20), bronze, '{"mbox3rdPartyId:C":["tier","lastUpdated"]}')).toEqual({ action: 'superseded' });
    // Nothing new since: the earlier list still travels, or the copy would bring the old tier back.
    expect(indexOf([[20, bronze]], []).decide(at(20), bronze, carried)).toEqual({ action: 'replay', omit: carried });
    // A malformed earlier list is ignored, as the connector ignores it.
    expect(index.decide(at(20), bronze, '{"mbox3rdPartyId:C":"tier"}')).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["email"]}' });
  });

  it('never skips a letter that fails to map, or that has no update: the connector decides about it again', () => {
    const failing = [...bronze, FAILED];
    const index = indexOf([[3, failing]], [[4, [update('C', { tier: 'gold', lastUpdated: 'x', email: 'y' })]]]);
    expect(index.decide(at(3), failing, undefined)).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["email","lastUpdated","tier"]}' });
    expect(indexOf([[3, [FILTERED]]], []).decide(at(3), [FILTERED], undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('replays a letter it cannot place or map with only what it carried', () => {
    const index = indexOf([[3, bronze]], [[4, [update('C', { tier: 'gold' })]]]);
    const carried = '{"mbox3rdPartyId:C":["email"]}';
    expect(index.decide(undefined, undefined, carried)).toEqual({ action: 'replay', omit: carried });
    expect(index.decide(at(3), undefined, undefined)).toEqual({ action: 'replay', omit: undefined });
    expect(index.decide(undefined, undefined, undefined)).toEqual({ action: 'replay', omit: undefined });
  });

  it('reads each partition once, from just after its earliest letter, and only where letters update profiles', () => {
    const index = new SupersededIndex();
    index.addLetter(at(9), bronze);
    index.addLetter(at(4), bronze);
    index.addLetter(at(7, 2), bronze);
    index.addLetter(at(1, 3), [FILTERED]);
    index.addLetter(at(1, 4), []);
    index.addDeadLetter(at(0, 5));
    expect(index.reads()).toEqual([
      { topic: TOPIC, partition: 0, from: 5 },
      { topic: TOPIC, partition: 2, from: 8 },
    ]);
  });

  it('remembers the last offset an attribute was set at, whatever order events are noted in', () => {
    const index = indexOf(
      [
        [3, bronze],
        [10, bronze],
      ],
      [
        [12, [update('C', { tier: 'gold' })]],
        [5, [update('C', { tier: 'silver' })]],
      ],
    );
    expect(index.decide(at(10), bronze, undefined)).toEqual({ action: 'replay', omit: '{"mbox3rdPartyId:C":["tier"]}' });
  });
});
