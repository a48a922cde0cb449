/** The bulk API calls a minute as a fleet member holds them with the local quota store. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../connector/adapters/config/load.js';
import { accountBudgets } from '../../../connector/apps/common/quota.js';
import { processBudgets } from '../../../connector/apps/common/delivery.js';
import type { Budget } from '../../../connector/core/delivery/budget.js';
import { FakeClock } from '../../support/fake-clock.js';

function configWith(bulk: string): ReturnType<typeof parseConfig> {
  const text = `kafka: { brokers: [127.0.0.1:9092] }\ntarget: { client_code: acme }\nmapping_file: mapping.yaml\ndelivery: { bulk: ${bulk} }\n`;
  return parseConfig(text, '/c/config.yaml', {});
}

/** Takes calls one by one until the budget says no; returns how many it gave. */
function drain(budget: Budget): number {
  let n = 0;
  while (budget.tryTake(1)) {
    budget.finished(1);
    n++;
  }
  return n;
}

describe('bulk calls a minute', () => {
  it("gives each replica its assignment share of calls_per_minute, back after a minute, not after the quota's day", async () => {
    const clock = new FakeClock();
    const config = configWith('{ mode: always }');
    const replicas = [accountBudgets(config, clock), accountBudgets(config, clock)];
    replicas[0]!.assign(8, 12);
    replicas[1]!.assign(4, 12);
    expect(replicas.map((r) => drain(r.bulkCalls!))).toEqual([33, 16]);
    await clock.advance(59_000);
    expect(replicas.map((r) => drain(r.bulkCalls!))).toEqual([0, 0]);
    await clock.advance(2_000);
    expect(replicas.map((r) => drain(r.bulkCalls!))).toEqual([33, 16]);
    await Promise.all(replicas.map((r) => r.close()));
  });

  it('follows delivery.bulk.calls_per_minute in one process, and holds no budget with bulk off', () => {
    const clock = new FakeClock();
    expect(drain(processBudgets(configWith('{ mode: auto, calls_per_minute: 7 }'), clock).bulkCalls!)).toBe(7);
    expect(accountBudgets(configWith('{ mode: off }'), clock).bulkCalls).toBeUndefined();
  });
});
