/**
 * coalescing: a backlog over few, Zipf-popular profiles. Updates that queue behind a busy
 * profile merge, so fewer requests (and less of the daily quota) are needed; the proof that the
 * merging keeps meaning is that the sandbox's final profiles equal the result of applying every
 * event's update one by one in offset order, computed here from the events themselves.
 */
import type { SinkRunResult } from '../child/sink-runner.js';
import { differingProfiles, expectedProfiles } from '../lib/expected-profiles.js';
import { benchSandbox, prepare, runSink } from '../lib/pipeline.js';
import { table, type Scenario } from '../lib/scenario.js';
import { fixed, int, median, percent, say, spread } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';

export const coalescing: Scenario = {
  name: 'coalescing',
  title: '200,000 events over 10,000 Zipf-popular profiles: requests/event and final state',
  async run(ctx) {
    const { zipf } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(zipf);
    const expected = await expectedProfiles(zipf);
    const runs: Array<SinkRunResult & { mismatches: number; profiles: number; maxPerProfile: number }> = [];
    for (let i = 0; i < ctx.runs; i++) {
      const sandbox = await benchSandbox({ latencyMs: 0, createMissing: true });
      try {
        const r = await runSink(ctx, { topics: [topic], targetUrl: sandbox.url, label: 'coalescing' });
        if (!r.complete || r.deadLettered > 0) throw new Error(`coalescing run ${i + 1} incomplete: ${JSON.stringify(r)}`);
        const mismatches = differingProfiles(sandbox, expected);
        const stats = sandbox.stats();
        runs.push({ ...r, mismatches, profiles: stats.profiles, maxPerProfile: stats.maxConcurrentPerProfile });
        say(`  coalescing run ${i + 1}: ${fixed(r.requests / r.events, 3)} requests/event, ${mismatches} profiles differ`);
      } finally {
        await sandbox.close();
      }
    }
    const perEvent = runs.map((r) => r.requests / r.events);
    const requestsPerEvent = median(perEvent);
    const mid = runs[perEvent.indexOf(requestsPerEvent)] as (typeof runs)[number];
    const rates = runs.map((r) => (r.events * 1000) / r.runMs);
    const identical = runs.every((r) => r.mismatches === 0 && r.profiles === expected.profiles.size);
    const updatesPerEvent = expected.updates / zipf.count;
    const profileCount = zipf.profiles.kind === 'zipf' ? zipf.profiles.profiles : 0;
    const markdown = [
      `${int(zipf.count)} CRM events pre-produced on ${zipf.partitions} partitions (keyed by profile), over ${int(profileCount)} profiles with`,
      `Zipf(s = 1) popularity (the top profile gets ≈ ${percent(1 / harmonic(profileCount))} of the events); sandbox without latency`,
      `that stores profiles; connector with default settings (concurrency 32, max_pending 10,000) in a child process.`,
      `Expected state: every event decoded and mapped on its own and applied in offset order (no merging).`,
      `${ctx.runs} runs, each against a fresh sandbox.`,
      '',
      table(
        ['measure', 'median', 'runs (min–max)'],
        [
          ['requests per event', `**${fixed(requestsPerEvent, 3)}**`, spread(perEvent, (n) => fixed(n, 3))],
          ['updates without coalescing (per event)', fixed(updatesPerEvent, 3), 'events filtered by `when` send nothing'],
          ['requests saved vs. one per update', `**${percent(1 - requestsPerEvent / updatesPerEvent)}**`, 'the same share of the daily quota'],
          ['updates merged into another', int(mid.coalesced), '—'],
          ['events/s', int(median(rates)), spread(rates)],
          [
            'final sandbox state = uncoalesced result',
            `**${identical ? 'yes' : 'NO'}**`,
            `${int(expected.profiles.size)} profiles compared attribute by attribute in every run; differing: ${runs.map((r) => r.mismatches).join(', ')}`,
          ],
          ['most requests in flight for one profile', String(Math.max(...runs.map((r) => r.maxPerProfile))), 'never two at once'],
        ],
      ),
    ].join('\n');
    return {
      markdown,
      summary: [
        {
          figure: 'coalescing (Zipf over 10,000 profiles)',
          value: `${fixed(requestsPerEvent, 3)} requests/event; final state ${identical ? 'identical' : 'DIFFERENT'}`,
          target: 'state = uncoalesced result',
          status: identical ? 'met' : 'not met',
        },
      ],
      figures: { requestsPerEvent, identical: identical ? 1 : 0 },
    };
  },
};

function harmonic(n: number): number {
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  return h;
}
