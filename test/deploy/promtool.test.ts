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
import { ALERT_TESTS_FILE, ALERTS_FILE, loadDashboard, panelQueries, type Located } from './ops-kit.js';

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
  const groups = queries.map(({ where, expr }, i) => ({ name: where.replaceAll('"', "'"), rules: [{ record: `dashboard:query_${i}`, expr: asPlainPromQL(expr) }] }));
  const file = join(await testTempDir('dashboard-rules'), 'dashboard-queries.yaml');
  await writeFile(file, stringify({ groups }));
  return runPromtool(context, ['check', 'rules', file]);
}

describe('promtool', () => {
  it('loads the alert rules (promtool check rules)', (context) => {
    const { status, output } = runPromtool(context, ['check', 'rules', ALERTS_FILE]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS: 5 rules found');
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
});
