/**
 * profile: where the connector's CPU goes in e2e-fast. One e2e-fast run with the connector's
 * child process under `node --cpu-prof`; self time summarised by component and by function.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { benchSandbox, prepare, runSink } from '../lib/pipeline.js';
import { table, type Scenario } from '../lib/scenario.js';
import { fixed, int, percent, say } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';

/** Components with at least 0.5% of busy time, the rest folded into one row; idle last. */
function componentRows(components: ProfileSummary['components'], busyMs: number, events: number): string[][] {
  const busy = components.filter((c) => !c.component.startsWith('idle'));
  const shown = busy.filter((c) => c.ms / busyMs >= 0.005);
  const rest = busy.filter((c) => c.ms / busyMs < 0.005);
  const row = (name: string, ms: number) => [name, `${int(ms)} ms`, percent(ms / busyMs), fixed((ms * 1000) / events, 1)];
  const rows = shown.map((c) => row(c.component, c.ms));
  if (rest.length > 0)
    rows.push(
      row(
        `${rest.length} smaller components`,
        rest.reduce((s, c) => s + c.ms, 0),
      ),
    );
  rows.push(row('**busy in all**', busyMs));
  const idle = components.find((c) => c.component.startsWith('idle'));
  if (idle) rows.push([idle.component, `${int(idle.ms)} ms`, '—', '—']);
  return rows;
}

export const profile: Scenario = {
  name: 'profile',
  title: 'where the time goes: e2e-fast once under node --cpu-prof',
  async run(ctx) {
    const { distinct } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinct);
    const dir = mkdtempSync(join(tmpdir(), 'tps-bench-prof-'));
    const sandbox = await benchSandbox({ latencyMs: 0, createMissing: false });
    let rate: number;
    let cpuCores: number;
    try {
      const r = await runSink(ctx, {
        topics: [topic],
        targetUrl: sandbox.url,
        label: 'profile',
        nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
      });
      rate = (r.events * 1000) / r.runMs;
      cpuCores = r.cpuSeconds / (r.runMs / 1000);
    } finally {
      await sandbox.close();
    }
    // The main thread's profile is the largest (tsx's loader thread writes a small one too).
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
    const summary = summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), 20);
    say(`  profile: ${int(rate)} events/s under the profiler; ${join(dir, file)}`);
    const busyMs = summary.components.filter((c) => !c.component.startsWith('idle')).reduce((s, c) => s + c.ms, 0);
    const markdown = [
      `One e2e-fast run (${int(distinct.count)} distinct profiles, no latency) with the connector process under`,
      '`node --cpu-prof --cpu-prof-interval=500`; the profile covers the whole process (start-up included).',
      `Under the profiler: ${int(rate)} events/s, ${fixed(cpuCores, 2)} cores of CPU. Self time of the main thread; builtins`,
      'such as `hash` are charged to the component that calls them; µs per event = self time ÷ events (start-up included).',
      '',
      table(['component', 'self time', 'share of busy', 'µs per event'], componentRows(summary.components, busyMs, distinct.count)),
      '',
      'Top functions by self time:',
      '',
      table(
        ['function', 'where', 'component', 'self', 'share'],
        summary.frames.map((f) => [`\`${f.name}\``, f.where, f.component, `${int(f.ms)} ms`, `${fixed(f.share * 100, 1)}%`]),
      ),
    ].join('\n');
    const idle = summary.components.find((c) => c.component.startsWith('idle'))?.share ?? 0;
    return {
      markdown,
      summary: [
        {
          figure: 'profile of e2e-fast',
          value:
            summary.components
              .filter((c) => !c.component.startsWith('idle'))
              .slice(0, 4)
              .map((c) => `${c.component} ${percent(c.ms / busyMs)}`)
              .join(', ') + ` of busy time; idle ${percent(idle)}`,
          target: '—',
          status: 'info',
        },
      ],
      figures: { rate, idleShare: idle },
    };
  },
};
