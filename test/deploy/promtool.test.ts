/**
 * Prometheus's own promtool on the operations kit: the alert rules load (`check rules`), their
 * unit tests pass (`test rules`), and every dashboard query parses as PromQL. promtool comes from
 * scripts/promtool.sh, which installs Debian's prometheus package when it is missing; these tests
 * are skipped, saying so, only where this machine cannot install it.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { testTempDir } from '../support/test-run.js';
import { ALERT_TESTS_FILE, ALERTS_FILE, alertRules, loadAlertRules, loadDashboard, panelQueries, type Located } from './ops-kit.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PROMTOOL_SCRIPT = join(ROOT, 'scripts/promtool.sh');
// The script's exit status when promtool is missing and this machine cannot install it.
const CANNOT_INSTALL = 5;
// Installing the package on a fresh machine (apt-get update included) can take minutes.
const INSTALL_TIMEOUT_MS = 600_000;

let promtool: string | undefined;
let unavailable = '';

beforeAll(() => {
  const found = spawnSync('bash', [PROMTOOL_SCRIPT], { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
  if (found.status === 0) {
    promtool = found.stdout.trim();
    return;
  }
  const reason = found.stderr.trimEnd().split('\n').at(-1) ?? '';
  if (found.status !== CANNOT_INSTALL) throw new Error(`scripts/promtool.sh failed (exit ${String(found.status ?? found.signal)}):\n${found.stderr}`);
  unavailable = `promtool is not installed and cannot be installed here, so the promtool checks are skipped: ${reason}`;
  console.warn(unavailable);
}, INSTALL_TIMEOUT_MS + 10_000);

/** Runs promtool, or skips the test with the reason promtool is unavailable. */
function runPromtool(context: TestContext, args: string[]): { status: number | null; output: string } {
  if (!promtool) return context.skip(unavailable);
  const run = spawnSync(promtool, args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Grafana's variables replaced by values Prometheus accepts, so that a dashboard query parses as PromQL. */
function asPlainPromQL(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+(:\w+)?\}?/g, '.*');
}

/** Runs `promtool check rules` on the queries written as recording rules, one group per query named after where it comes from. */
async function checkAsRules(context: TestContext, queries: readonly Located[]): Promise<{ status: number | null; output: string }> {
  const groups = queries.map(({ where, expr }, i) => ({
    name: where.replaceAll('"', "'"),
    rules: [{ record: `dashboard:query_${i}`, expr: asPlainPromQL(expr) }],
  }));
  const file = join(await testTempDir('dashboard-rules'), 'dashboard-queries.yaml');
  await writeFile(file, stringify({ groups }));
  return runPromtool(context, ['check', 'rules', file]);
}

/** A dashboard query and the samples it must give. */
interface QueryCase {
  panel: string;
  refId: string;
  /** Each sample's labels as PromQL writes them (`{instance="a"}`), and its value. */
  samples: Array<{ labels?: string; value: number }>;
}

/** A recording rule name for a dashboard query, so that promtool's report names the panel: `dashboard:<title>:<refId>`. */
function recordName(panel: string, refId: string): string {
  return `dashboard:${panel.toLowerCase().replace(/[^a-z0-9]+/g, '_')}:${refId}`;
}

/**
 * Runs `promtool test rules` on dashboard queries: each recorded as a rule over `series` (one sample
 * a minute, promtool's notation) and expected to give its samples at `at`.
 */
async function evaluateQueries(
  context: TestContext,
  series: Record<string, string>,
  at: string,
  cases: readonly QueryCase[],
): Promise<{ status: number | null; output: string }> {
  const queries = panelQueries(loadDashboard());
  const rules = cases.map(({ panel, refId }) => {
    const where = `panel "${panel}" query ${refId}`;
    const query = queries.find((q) => q.where === where);
    if (!query) throw new Error(`the dashboard has no ${where}`);
    return { record: recordName(panel, refId), expr: asPlainPromQL(query.expr) };
  });
  const folder = await testTempDir('dashboard-eval');
  await writeFile(join(folder, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
  const test = {
    interval: '1m',
    input_series: Object.entries(series).map(([name, values]) => ({ series: name, values })),
    promql_expr_test: cases.map(({ panel, refId, samples }) => ({
      expr: recordName(panel, refId),
      eval_time: at,
      exp_samples: samples.map(({ labels = '', value }) => ({ labels: `${recordName(panel, refId)}${labels}`, value })),
    })),
  };
  await writeFile(join(folder, 'queries.test.yaml'), stringify({ rule_files: ['queries.yaml'], evaluation_interval: '1m', tests: [test] }));
  return runPromtool(context, ['test', 'rules', join(folder, 'queries.test.yaml')]);
}

/** A replica's quota gauges, flat for 70 minutes. */
function quotaSeries(instance: string, figures: { limit: number; remaining: number; fleetUsed: number; fallback: 0 | 1 }): Record<string, string> {
  const labels = `{job="tps",instance="${instance}"}`;
  return {
    [`tps_quota_limit${labels}`]: `${figures.limit}x70`,
    [`tps_quota_remaining${labels}`]: `${figures.remaining}x70`,
    [`tps_quota_fleet_used${labels}`]: `${figures.fleetUsed}x70`,
    [`tps_quota_store_fallback${labels}`]: `${figures.fallback}x70`,
  };
}

describe('promtool', () => {
  it('loads the alert rules (promtool check rules)', (context) => {
    const { status, output } = runPromtool(context, ['check', 'rules', ALERTS_FILE]);
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${alertRules(loadAlertRules()).length} rules found`);
  });

  it('passes the alert rules unit tests (promtool test rules)', (context) => {
    const { status, output } = runPromtool(context, ['test', 'rules', ALERT_TESTS_FILE]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('parses every dashboard query as PromQL, each checked as a recording rule named after its panel', async (context) => {
    const queries = panelQueries(loadDashboard());
    const { status, output } = await checkAsRules(context, queries);
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it('names the panel and query of a dashboard query that does not parse', async (context) => {
    const broken = [{ where: 'panel "Requests by status" query A', expr: 'sum by (status (rate(tps_requests_total{job=~"$job"}[$__rate_interval]))' }];
    const { status, output } = await checkAsRules(context, broken);
    expect(status).not.toBe(0);
    expect(output).toMatch(/group "panel 'Requests by status' query A", rule 1, "dashboard:query_0": could not parse expression/);
  });

  it("shows Kafka's lag per partition and per topic: an outage's growth with each partition counted once, then 0 once everything is committed", async (context) => {
    // Target down for 30 minutes, then back; during a rebalance at minute 20 replica-c reports partition 2 too.
    const outage = '0+60x30 1200 600 0x30';
    const series = {
      'tps_consumer_lag{job="tps",instance="a",topic="crm",partition="0"}': outage,
      'tps_consumer_lag{job="tps",instance="a",topic="crm",partition="1"}': outage,
      'tps_consumer_lag{job="tps",instance="b",topic="crm",partition="2"}': outage,
      'tps_consumer_lag{job="tps",instance="c",topic="crm",partition="2"}': '_x20 1100+60x3',
    };
    const during = await evaluateQueries(context, series, '22m', [
      {
        panel: 'Consumer lag per partition',
        refId: 'A',
        samples: ['0', '1', '2'].map((partition) => ({ labels: `{topic="crm",partition="${partition}"}`, value: 1320 })),
      },
      { panel: 'Consumer lag per topic', refId: 'A', samples: [{ labels: '{topic="crm"}', value: 3960 }] },
    ]);
    expect(during.status, during.output).toBe(0);
    const after = await evaluateQueries(context, series, '40m', [
      {
        panel: 'Consumer lag per partition',
        refId: 'A',
        samples: ['0', '1', '2'].map((partition) => ({ labels: `{topic="crm",partition="${partition}"}`, value: 0 })),
      },
      { panel: 'Consumer lag per topic', refId: 'A', samples: [{ labels: '{topic="crm"}', value: 0 }] },
    ]);
    expect(after.status, after.output).toBe(0);
  });

  it("shows the fleet's quota of the store in use: with Redis the shared window against the account's quota, not the replicas summed", async (context) => {
    const series = {
      // Two replicas take from the shared window (b holds 5,000 units reserved); c cannot reach Redis and keeps to its share.
      ...quotaSeries('a', { limit: 1_000_000, remaining: 700_000, fleetUsed: 300_000, fallback: 0 }),
      ...quotaSeries('b', { limit: 1_000_000, remaining: 705_000, fleetUsed: 300_000, fallback: 0 }),
      ...quotaSeries('c', { limit: 250_000, remaining: 240_000, fleetUsed: 290_000, fallback: 1 }),
    };
    const { status, output } = await evaluateQueries(context, series, '65m', [
      { panel: 'Quota, fleet', refId: 'A', samples: [{ value: 300_000 }] },
      { panel: 'Quota, fleet', refId: 'B', samples: [{ value: 1_000_000 }] },
      { panel: 'Quota, fleet', refId: 'C', samples: [] },
      { panel: 'Quota, fleet', refId: 'D', samples: [] },
      // Flat use: what is left now is what is left in 4 h; only the replica on its own share has a share line.
      { panel: 'Quota left in 4 h at the current rate', refId: 'A', samples: [{ labels: '{job="tps",instance="c"}', value: 240_000 }] },
      { panel: 'Quota left in 4 h at the current rate', refId: 'B', samples: [{ labels: '{job="tps"}', value: 700_000 }] },
    ]);
    expect(status, output).toBe(0);
  });

  it("shows the fleet's quota of the store in use: with the local store the replicas' use and shares summed", async (context) => {
    const series = {
      ...quotaSeries('c', { limit: 250_000, remaining: 200_000, fleetUsed: 0, fallback: 0 }),
      ...quotaSeries('d', { limit: 250_000, remaining: 150_000, fleetUsed: 0, fallback: 0 }),
      // c has 5 batches waiting for their status; d 1 of 3 (the others complete).
      'tps_bulk_batches_total{job="tps",instance="c",state="submitted"}': '5x70',
      'tps_bulk_batches_total{job="tps",instance="d",state="submitted"}': '3x70',
      'tps_bulk_batches_total{job="tps",instance="d",state="complete"}': '2x70',
    };
    const { status, output } = await evaluateQueries(context, series, '65m', [
      { panel: 'Quota, fleet', refId: 'A', samples: [] },
      { panel: 'Quota, fleet', refId: 'B', samples: [] },
      { panel: 'Quota, fleet', refId: 'C', samples: [{ value: 150_000 }] },
      { panel: 'Quota, fleet', refId: 'D', samples: [{ value: 500_000 }] },
      {
        panel: 'Quota left in 4 h at the current rate',
        refId: 'A',
        samples: [
          { labels: '{job="tps",instance="c"}', value: 200_000 },
          { labels: '{job="tps",instance="d"}', value: 150_000 },
        ],
      },
      { panel: 'Quota left in 4 h at the current rate', refId: 'B', samples: [] },
      {
        panel: 'Bulk batches waiting',
        refId: 'A',
        samples: [
          { labels: '{instance="c"}', value: 5 },
          { labels: '{instance="d"}', value: 1 },
        ],
      },
    ]);
    expect(status, output).toBe(0);
  });
});
