/** The settlements of a lane's job: parked events kept as positions end exactly like the objects they replace. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParkedHost, ParkedSink, Settlement } from '../../../connector/core/delivery/route.js';
import type { UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { Settlements } from '../../../connector/core/delivery/settlements.js';

/** Records every end, by event name, whichever way it came. */
class Ends {
  readonly seen: string[] = [];
  readonly hosts = [0, 1, 2].map((h): ParkedHost => ({ settleParked: (offset, fetchedAt) => this.seen.push(`h${h}:${offset}@${fetchedAt}`) }));

  /** An event of one update whose source reads records again (`positional`), or one that stays an object. */
  settlement(host: number, offset: number, positional: boolean): Settlement {
    return {
      settle: () => this.seen.push(`h${host}:${offset}@${offset * 10}`),
      park: (sink: ParkedSink) => {
        if (!positional) return false;
        sink.add(this.hosts[host] as ParkedHost, offset, offset * 10);
        return true;
      },
    };
  }
}

type Step = { list: number; host: number; positional: boolean; parked: boolean };

describe('Settlements', () => {
  it('settle each update exactly once, positions or objects, however lists are filled, parked and merged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ list: fc.nat(2), host: fc.nat(2), positional: fc.boolean(), parked: fc.boolean() }), { maxLength: 40 }),
        fc.array(fc.nat(2), { maxLength: 3 }),
        (steps: Step[], parkAllOf: number[]) => {
          const ends = new Ends();
          const lists = [new Settlements(), new Settlements(), new Settlements()];
          const expected: string[] = [];
          steps.forEach((step, offset) => {
            const list = lists[step.list] as Settlements;
            const settlement = ends.settlement(step.host, offset, step.positional);
            list.push(settlement, step.parked);
            expected.push(`h${step.host}:${offset}@${offset * 10}`);
          });
          for (const index of parkAllOf) (lists[index] as Settlements).parkAll();
          const merged = Settlements.merged(lists);
          expect(merged.size).toBe(steps.length);
          merged.settle({ status: 'delivered' });
          expect([...ends.seen].sort()).toEqual([...expected].sort());
          // Settled once: the list is empty afterwards.
          expect(merged.size).toBe(0);
          merged.settle({ status: 'delivered' });
          expect(ends.seen).toHaveLength(steps.length);
        },
      ),
    );
  });

  it('hand every host the result its positions end with', () => {
    const results: UpdateResult[] = [];
    const host: ParkedHost = { settleParked: (_offset, _at, result) => results.push(result) };
    const list = new Settlements();
    list.add(host, 7, 1);
    list.add(host, 9, 2);
    const failed: UpdateResult = { status: 'failed', error: new Error('row refused'), attempts: 3 };
    list.settle(failed);
    expect(results).toEqual([failed, failed]);
  });
});
