/**
 * BENCHMARKS.md and bench/results.json. The runner owns the preamble, `## Summary` and one
 * `## <scenario>` section per scenario; a scenario that did not run keeps its last section.
 * Any other `## ` section (hand-written analysis) is kept as it is, after the owned ones.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { ScenarioOutcome, SummaryRow } from './scenario.js';
import { table } from './scenario.js';
import { repoPath, type Machine } from './util.js';

export interface RecordedScenario {
  date: string;
  command: string;
  conditions: string;
  summary: SummaryRow[];
  figures: Record<string, number>;
  markdown: string;
}

export interface Results {
  machine?: Machine;
  /** The last invocation that ran every scenario. */
  fullRun?: { date: string; command: string; seconds: number; conditions: string };
  scenarios: Record<string, RecordedScenario>;
}

const RESULTS = repoPath('bench/results.json');
const REPORT = repoPath('BENCHMARKS.md');

export async function readResults(): Promise<Results> {
  try {
    return JSON.parse(await readFile(RESULTS, 'utf8')) as Results;
  } catch {
    return { scenarios: {} };
  }
}

export interface RunInfo {
  command: string;
  machine: Machine;
  date: string;
  conditions: string;
  totalSeconds: number;
  scenarios: string[];
  /** Every scenario ran (the preamble then quotes this run). */
  full: boolean;
}

/** Records this run's outcomes and rewrites BENCHMARKS.md. */
export async function writeReport(order: string[], run: RunInfo, outcomes: Map<string, ScenarioOutcome>): Promise<void> {
  const results = await readResults();
  results.machine = run.machine;
  if (run.full) results.fullRun = { date: run.date, command: run.command, seconds: Math.round(run.totalSeconds), conditions: run.conditions };
  for (const [name, outcome] of outcomes) {
    results.scenarios[name] = {
      date: run.date,
      command: run.command,
      conditions: run.conditions,
      summary: outcome.summary,
      figures: outcome.figures,
      markdown: outcome.markdown,
    };
  }
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  const current = await readFile(REPORT, 'utf8').catch(() => '');
  const foreign = sections(current).filter((s) => !order.includes(s.name) && s.name !== 'Summary');
  const m = run.machine;
  const preamble = [
    '# Benchmarks',
    '',
    'Measured with the real local Kafka broker (single-node KRaft, `scripts/kafka.sh`) and the Target sandbox',
    '(`connector/sandbox`), on the machine below. These are benchmarks, not tests: nothing fails on a figure.',
    '',
    '```',
    'npm run bench                      # every scenario (KAFKA_BROKERS=host:port to use a running broker)',
    'npm run bench -- e2e-fast memory   # some scenarios; --runs N, --quick (small sizes, nothing written)',
    '```',
    '',
    `- machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, Linux ${m.kernel}, Node ${m.node}`,
    results.fullRun
      ? `- last full run: ${results.fullRun.date}, \`${results.fullRun.command}\`, ${results.fullRun.seconds} s in all (budget: 15 minutes); ${results.fullRun.conditions}`
      : '- no full run recorded yet',
    '- every section below states the date, command and conditions of its own figures',
    '',
  ].join('\n');
  const summaryRows = order.flatMap((name) => {
    const s = results.scenarios[name];
    return s ? s.summary.map((r) => [name, r.figure, r.value, r.target, r.status === 'info' ? '—' : `**${r.status}**`, s.date]) : [];
  });
  const summary = ['## Summary', '', table(['scenario', 'figure', 'value', 'target', 'met?', 'date'], summaryRows), ''].join('\n');
  const owned = order.flatMap((name) => {
    const s = results.scenarios[name];
    if (!s) return [];
    return [`## ${name}\n\n${s.markdown.trim()}\n\n_${s.date}, \`${s.command}\`; ${s.conditions}_\n`];
  });
  const text = [preamble, summary, ...owned, ...foreign.map((s) => s.text.trimEnd() + '\n')].join('\n');
  await writeFile(REPORT, text);
}

/** The `## ` sections of a markdown text, each with its name and full text. */
function sections(text: string): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  const parts = text.split(/^(?=## )/m);
  for (const part of parts) {
    const m = /^## (.+)$/m.exec(part);
    if (m && part.startsWith('## ')) out.push({ name: (m[1] as string).trim(), text: part });
  }
  return out;
}
