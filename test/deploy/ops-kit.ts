/**
 * The operations kit as the tests read it: the Grafana dashboard and the Prometheus alert rules,
 * their expressions labelled with where they come from, and the checks that turn a mistake into a
 * message naming the panel or alert and the metric.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../connector/observe/metrics.js';
import { exportedSeriesNames, selectorsIn } from './promql.js';

const ROOT = resolve(import.meta.dirname, '../..');

export const DASHBOARD_FILE = resolve(ROOT, 'deploy/grafana/target-profile-sink.json');
export const ALERTS_FILE = resolve(ROOT, 'deploy/prometheus/alerts.yaml');
export const ALERT_TESTS_FILE = resolve(ROOT, 'deploy/prometheus/alerts.test.yaml');
export const DEPLOY_README = resolve(ROOT, 'deploy/README.md');

/** The datasource every panel names: the dashboard's templated `datasource` variable. */
export const DATASOURCE_UID = '${datasource}';

/** A Grafana panel as far as the checks read it; a collapsed row holds its panels. */
export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId?: string; expr?: string }[];
  gridPos?: { x?: number; y?: number; w?: number; h?: number };
  panels?: Panel[];
}

/** A dashboard template variable. */
export interface Variable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
}

/** A Grafana dashboard (classic JSON model) as far as the checks read it. */
export interface Dashboard {
  title?: string;
  uid?: string;
  schemaVersion?: number;
  templating?: { list?: Variable[] };
  panels?: Panel[];
}

/** A Prometheus alerting rule. */
export interface AlertRule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Prometheus rule file. */
export interface RuleFile {
  groups?: { name?: string; rules?: AlertRule[] }[];
}

/** A `promtool test rules` file, as far as the coverage check reads it. */
export interface RuleTestFile {
  tests?: { name?: string; alert_rule_test?: { alertname?: string; exp_alerts?: unknown[] }[] }[];
}

/** An expression and where it comes from, for messages. */
export interface Located {
  where: string;
  expr: string;
}

/** The dashboard file, parsed. */
export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** The alert rule file, parsed. */
export function loadAlertRules(): RuleFile {
  return parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile;
}

/** The alert rules' unit tests, parsed. */
export function loadAlertTests(): RuleTestFile {
  return parse(readFileSync(ALERT_TESTS_FILE, 'utf8')) as RuleTestFile;
}

/** Every series name the connector's registry exposes, built by the connector's own createMetrics(). */
export async function exportedNames(): Promise<Set<string>> {
  return exportedSeriesNames(await createMetrics().registry.getMetricsAsJSON());
}

/** Every panel of a dashboard, the panels of collapsed rows included, rows themselves excluded. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

/** Every panel query of a dashboard, labelled `panel "<title>" query <refId>`. */
export function panelQueries(dashboard: Dashboard): Located[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title ?? '?'}" query ${target.refId ?? '?'}`, expr: target.expr ?? '' })),
  );
}

/** The PromQL selectors of the dashboard's query variables (`label_values(selector, label)`), labelled `variable <name>`. */
export function variableQueries(dashboard: Dashboard): Located[] {
  return (dashboard.templating?.list ?? [])
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      const labelValues = /^\s*label_values\(\s*(?:(.*),\s*)?[a-zA-Z_]\w*\s*\)\s*$/s.exec(query);
      return { where: `variable ${variable.name ?? '?'}`, expr: labelValues ? (labelValues[1] ?? '') : query };
    });
}

/** Every alert's expression, labelled `alert <name>`. */
export function alertExpressions(rules: RuleFile): Located[] {
  return alertRules(rules).map((rule) => ({ where: `alert ${rule.alert ?? '?'}`, expr: rule.expr ?? '' }));
}

/** Every alerting rule of every group. */
export function alertRules(rules: RuleFile): AlertRule[] {
  return (rules.groups ?? []).flatMap((group) => (group.rules ?? []).filter((rule) => rule.alert !== undefined));
}

/** One line per metric an expression reads that the connector does not export, naming where it is used. */
export function unknownMetricProblems(expressions: readonly Located[], exported: ReadonlySet<string>): string[] {
  return expressions.flatMap(({ where, expr }) =>
    [...new Set(selectorsIn(expr).map((s) => s.metric))]
      .filter((metric) => !exported.has(metric))
      .map((metric) => `${where}: ${metric} is not a metric the connector exports`),
  );
}

/** What is wrong with the dashboard's shape: the fields Grafana and the checks need. */
export function dashboardShapeProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  if (!dashboard.title) problems.push('the dashboard has no title');
  if (!dashboard.uid) problems.push('the dashboard has no uid');
  if (typeof dashboard.schemaVersion !== 'number' || dashboard.schemaVersion < 39) {
    problems.push(`schemaVersion must be that of Grafana 11 or later (39+), got ${String(dashboard.schemaVersion)}`);
  }
  const variables = dashboard.templating?.list ?? [];
  const datasource = variables.find((v) => v.name === 'datasource');
  if (datasource?.type !== 'datasource' || datasource.query !== 'prometheus') problems.push('no "datasource" variable of type datasource for prometheus');
  for (const name of ['job', 'instance']) {
    if (!variables.some((v) => v.name === name && v.type === 'query')) problems.push(`no "${name}" query variable`);
  }
  const ids = new Set<number>();
  const everyPanel = (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? [panel, ...(panel.panels ?? [])] : [panel]));
  for (const panel of everyPanel) {
    const name = `panel ${panel.id ?? '?'} "${panel.title ?? ''}"`;
    if (panel.id !== undefined && ids.has(panel.id)) problems.push(`${name}: id ${panel.id} is used twice`);
    if (panel.id !== undefined) ids.add(panel.id);
    if (panel.id === undefined) problems.push(`${name}: no id`);
    if (!panel.title) problems.push(`${name}: no title`);
    const { x = -1, w = 0, h = 0 } = panel.gridPos ?? {};
    if (x < 0 || w < 1 || h < 1 || x + w > 24) problems.push(`${name}: gridPos must lie within the 24 columns, got ${JSON.stringify(panel.gridPos)}`);
    if (panel.type === 'row') continue;
    if (panel.datasource?.uid !== DATASOURCE_UID) problems.push(`${name}: datasource must be ${DATASOURCE_UID}, got ${JSON.stringify(panel.datasource)}`);
    const targets = panel.targets ?? [];
    if (targets.length === 0) problems.push(`${name}: no query`);
    for (const target of targets) {
      if (!target.refId) problems.push(`${name}: a query has no refId`);
      if (!target.expr?.trim()) problems.push(`${name}: query ${target.refId ?? '?'} has no expr`);
    }
  }
  return problems;
}

/** Panel selectors that ignore the job or replica picked at the top of the dashboard. */
export function unfilteredSelectorProblems(dashboard: Dashboard): string[] {
  return panelQueries(dashboard).flatMap(({ where, expr }) =>
    selectorsIn(expr)
      .filter((s) => !s.matchers.includes('job=~"$job"') || !s.matchers.includes('instance=~"$instance"'))
      .map((s) => `${where}: ${s.metric} is not filtered by job=~"$job" and instance=~"$instance"`),
  );
}

/** What an alert lacks for an operator: a `for`, a severity, a summary and a description pointing at its README section. */
export function alertRuleProblems(rules: RuleFile, readme: string): string[] {
  const headings = new Set(readme.split('\n').flatMap((line) => /^#{2,6}\s+(\S+)\s*$/.exec(line)?.slice(1) ?? []));
  return alertRules(rules).flatMap((rule) => {
    const name = rule.alert ?? '?';
    const problems: string[] = [];
    if (!rule.for) problems.push('no `for`');
    if (!['warning', 'critical'].includes(rule.labels?.severity ?? ''))
      problems.push(`severity must be warning or critical, got ${String(rule.labels?.severity)}`);
    if (!rule.annotations?.summary) problems.push('no summary annotation');
    const anchor = `deploy/README.md#${name.toLowerCase()}`;
    if (!rule.annotations?.description?.includes(anchor)) problems.push(`the description does not point at ${anchor}`);
    if (!headings.has(name)) problems.push(`deploy/README.md has no heading "${name}" for the anchor`);
    return problems.map((problem) => `alert ${name}: ${problem}`);
  });
}

/** Alerts whose unit tests lack a case where they fire or a case where they do not. */
export function alertTestCoverageProblems(rules: RuleFile, tests: RuleTestFile): string[] {
  const cases = (tests.tests ?? []).flatMap((test) => test.alert_rule_test ?? []);
  return alertRules(rules).flatMap((rule) => {
    const own = cases.filter((c) => c.alertname === rule.alert);
    const problems: string[] = [];
    if (!own.some((c) => (c.exp_alerts ?? []).length > 0)) problems.push(`alert ${rule.alert ?? '?'}: no unit test where it fires`);
    if (!own.some((c) => (c.exp_alerts ?? []).length === 0)) problems.push(`alert ${rule.alert ?? '?'}: no unit test where it does not fire`);
    return problems;
  });
}
