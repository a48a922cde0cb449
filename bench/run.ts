/**
 * The benchmark runner: `npm run bench [-- scenario...] [--runs N] [--quick] [--dry] [--note TEXT]`.
 * Runs the named scenarios (all by default, in the order below) against the real broker and the
 * sandbox, prints a summary and records the figures in BENCHMARKS.md and bench/results.json.
 */
import { bulk } from './scenarios/bulk.js';
import { coalescing } from './scenarios/coalescing.js';
import { ceiling } from './scenarios/ceiling.js';
import { e2eFast } from './scenarios/e2e-fast.js';
import { e2eLatency } from './scenarios/e2e-latency.js';
import { sharedBudget } from './scenarios/shared-budget.js';
import { mapping } from './scenarios/mapping.js';
import { memory } from './scenarios/memory.js';
import { naive } from './scenarios/naive.js';
import { SCENARIO_ORDER } from './scenarios/order.js';
import { profile } from './scenarios/profile.js';
import { realtime } from './scenarios/realtime.js';
import { cleanUpOnInterrupt } from './lib/interrupt.js';
import { deleteGroups, ensureBroker } from './lib/kafka.js';
import { readResults, writeReport } from './lib/report.js';
import type { RunContext, Scenario, ScenarioOutcome } from './lib/scenario.js';
import { loadAverage, machine, say } from './lib/util.js';

const SCENARIOS: Scenario[] = [mapping, ceiling, e2eFast, e2eLatency, realtime, sharedBudget, naive, coalescing, memory, bulk, profile];

function usage(): string {
  return [
    'usage: npm run bench -- [scenario ...] [--runs N] [--quick] [--dry] [--note TEXT]',
    '',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.title}`),
    '',
    '  --runs N     repetitions of the short scenarios (median reported; default 3)',
    '  --quick      a tenth of the sizes, to try the benchmark out; implies --dry',
    '  --dry        print the figures, do not touch BENCHMARKS.md / bench/results.json',
    '  --note TEXT  added to the recorded conditions (e.g. "other test suites were running")',
  ].join('\n');
}

function parseArgs(argv: string[]) {
  const names: string[] = [];
  let runs = 3;
  let quick = false;
  let dry = false;
  let note: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--runs') runs = Number(argv[++i]);
    else if (arg === '--quick') quick = true;
    else if (arg === '--dry') dry = true;
    else if (arg === '--note') note = argv[++i];
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${usage()}`);
    else names.push(arg);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${usage()}`);
  const chosen = names.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => names.includes(s.name));
  return { chosen, runs, quick, dry: dry || quick, note };
}

const args = parseArgs(process.argv.slice(2));
const started = performance.now();
const loadBefore = loadAverage();
const stopBroker = await ensureBroker();
const previous = await readResults();
const outcomes = new Map<string, ScenarioOutcome>();
const groups: string[] = [];
cleanUpOnInterrupt(async () => {
  await deleteGroups(groups);
  await stopBroker();
});
const date = new Date().toISOString().slice(0, 10);
const stamp = Date.now().toString(36);
let groupCount = 0;

const ctx: RunContext = {
  runs: args.runs,
  quick: args.quick,
  size: (n, min = 1) => (args.quick ? Math.max(min, Math.round(n / 10)) : n),
  group(label) {
    const id = `bench.${label}.${stamp}.${++groupCount}`;
    groups.push(id);
    return id;
  },
  figure(scenario, name) {
    const fresh = outcomes.get(scenario)?.figures[name];
    if (fresh !== undefined) return { value: fresh, date, fresh: true };
    const recorded = args.quick ? undefined : previous.scenarios[scenario];
    const value = recorded?.figures[name];
    return value === undefined || !recorded ? undefined : { value, date: recorded.date, fresh: false };
  },
};

let failed = false;
try {
  for (const scenario of args.chosen) {
    const t0 = performance.now();
    say(`${scenario.name}: ${scenario.title}`);
    try {
      const outcome = await scenario.run(ctx);
      outcomes.set(scenario.name, outcome);
      say(`${scenario.name} done in ${Math.round((performance.now() - t0) / 1000)} s`);
      for (const row of outcome.summary) say(`  ${row.figure}: ${row.value} (target ${row.target}: ${row.status})`);
    } catch (error) {
      failed = true;
      say(`${scenario.name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
} finally {
  await deleteGroups(groups);
  await stopBroker();
}

const totalSeconds = (performance.now() - started) / 1000;
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const conditions = `load average ${loadBefore.toFixed(2)} before, ${loadAverage().toFixed(2)} after` + (args.note ? `; ${args.note}` : '');
const lines = [...outcomes].flatMap(([name, o]) => o.summary.map((r) => `${name.padEnd(12)} ${r.figure}: ${r.value}  [target ${r.target}: ${r.status}]`));
if (args.dry) for (const [name, o] of outcomes) process.stdout.write(`\n## ${name}\n\n${o.markdown}\n`);
process.stdout.write(`\n${lines.join('\n')}\n\ntotal ${Math.round(totalSeconds)} s\n`);
if (!args.dry && outcomes.size > 0) {
  await writeReport(
    SCENARIO_ORDER,
    { command, machine: machine(), date, conditions, totalSeconds, scenarios: [...outcomes.keys()], full: outcomes.size === SCENARIOS.length && !failed },
    outcomes,
  );
  say('updated BENCHMARKS.md and bench/results.json');
}
process.exit(failed ? 1 : 0);
