/** A broker outage reported as a Target outage is: one warning, one a minute while it lasts, one on recovery — on fake time. */
import { describe, expect, it } from 'vitest';
import { BrokerOutage, type BrokerOutageReport } from '../../../connector/adapters/kafka/broker-outage.js';
import { FakeClock } from '../../support/fake-clock.js';

function tracker() {
  const clock = new FakeClock();
  const reports: string[] = [];
  const report: BrokerOutageReport = {
    down: ({ cause }) => reports.push(`down: ${cause}`),
    stillDown: ({ cause, downForMs }) => reports.push(`still down ${downForMs / 1000} s: ${cause}`),
    recovered: ({ downForMs }) => reports.push(`recovered after ${downForMs / 1000} s`),
  };
  const outage = new BrokerOutage(report, clock, { graceMs: 5000, repeatMs: 60_000 });
  return { clock, reports, outage };
}

describe('BrokerOutage', () => {
  it('a 150 s outage: one warning once failures last the grace period, one a minute, one on recovery', async () => {
    const { reports, outage, clock } = tracker();
    outage.arm();
    const start = clock.now();
    // kafkajs reconnects every second or so while the broker is down.
    for (let s = 0; s <= 150; s++) {
      await clock.advance(s === 0 ? 0 : 1000);
      outage.failure(`Connection error: connect ECONNREFUSED (${s})`);
    }
    await clock.advance(1000);
    outage.healthy();
    outage.healthy();
    expect(clock.now() - start).toBe(151_000);
    expect(reports).toEqual([
      'down: Connection error: connect ECONNREFUSED (5)',
      'still down 65 s: Connection error: connect ECONNREFUSED (65)',
      'still down 125 s: Connection error: connect ECONNREFUSED (125)',
      'recovered after 151 s',
    ]);
  });

  it('a dropped connection that is reopened within the grace period says nothing', async () => {
    const { reports, outage, clock } = tracker();
    outage.arm();
    outage.failure('Connection error: read ECONNRESET');
    await clock.advance(2000);
    outage.failure('Connection error: read ECONNRESET');
    outage.healthy();
    await clock.advance(10_000);
    outage.failure('Connection error: read ECONNRESET');
    expect(reports).toEqual([]);
    expect(outage.down).toBe(false);
  });

  it('a consumer crash kafkajs restarts is an outage at once', () => {
    const { reports, outage } = tracker();
    outage.arm();
    outage.failure('Connection error: connect ECONNREFUSED', true);
    expect(reports).toEqual(['down: Connection error: connect ECONNREFUSED']);
    expect(outage.down).toBe(true);
  });

  it('reports nothing before it is armed: start-up failures are reported by the start-up path', async () => {
    const { reports, outage, clock } = tracker();
    outage.failure('x', true);
    await clock.advance(10_000);
    outage.failure('x');
    expect(reports).toEqual([]);
  });
});
