/**
 * deploy/prometheus/alerts.yaml against the metrics the connector really exports, what each alert
 * tells the operator, and the coverage of its promtool unit tests (run in promtool.test.ts).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  alertExpressions,
  alertRuleProblems,
  alertRules,
  alertTestCoverageProblems,
  DEPLOY_README,
  exportedNames,
  loadAlertRules,
  loadAlertTests,
  unknownMetricProblems,
  type RuleFile,
} from './ops-kit.js';

let exported: Set<string>;

beforeAll(async () => {
  exported = await exportedNames();
});

const readme = readFileSync(DEPLOY_README, 'utf8');

describe('the alert rules', () => {
  const rules = loadAlertRules();

  it("cover the quota (a replica's share, the shared fleet budget, the store), lag, dead letters, circuit breakers, readiness and bulk batches", () => {
    expect(alertRules(rules).map((rule) => rule.alert)).toEqual([
      'TargetProfileSinkQuotaShareRunningOut',
      'TargetProfileSinkFleetQuotaRunningOut',
      'TargetProfileSinkQuotaStoreFallback',
      'TargetProfileSinkConsumerLagGrowing',
      'TargetProfileSinkDeadLetters',
      'TargetProfileSinkCircuitBreakerOpen',
      'TargetProfileSinkNoReplicaReady',
      'TargetProfileSinkBulkBatchPending',
    ]);
  });

  it('read only metrics the connector exports', () => {
    expect(unknownMetricProblems(alertExpressions(rules), exported)).toEqual([]);
  });

  it('each wait a `for`, carry a severity, and tell the operator what to do in a README section', () => {
    expect(alertRuleProblems(rules, readme)).toEqual([]);
  });

  it('each have a unit test where they fire and one where they do not', () => {
    expect(alertTestCoverageProblems(rules, loadAlertTests())).toEqual([]);
  });
});

describe('the checks catch a broken rule', () => {
  const broken: RuleFile = {
    groups: [
      {
        name: 'g',
        rules: [
          {
            alert: 'TargetProfileSinkLagging',
            expr: 'max(tps_consumer_lags) > 1000 and tps_ready == 1',
            labels: { severity: 'page' },
            annotations: { description: 'lag' },
          },
        ],
      },
    ],
  };

  it('names the alert and the metric that does not exist', () => {
    expect(unknownMetricProblems(alertExpressions(broken), exported)).toEqual([
      'alert TargetProfileSinkLagging: tps_consumer_lags is not a metric the connector exports',
    ]);
  });

  it('names what the alert lacks for an operator', () => {
    expect(alertRuleProblems(broken, readme)).toEqual([
      'alert TargetProfileSinkLagging: no `for`',
      'alert TargetProfileSinkLagging: severity must be warning or critical, got page',
      'alert TargetProfileSinkLagging: no summary annotation',
      'alert TargetProfileSinkLagging: the description does not point at deploy/README.md#targetprofilesinklagging',
      'alert TargetProfileSinkLagging: deploy/README.md has no heading "TargetProfileSinkLagging" for the anchor',
    ]);
  });

  it('names an alert whose unit tests only ever see it fire', () => {
    const tests = { tests: [{ alert_rule_test: [{ alertname: 'TargetProfileSinkLagging', exp_alerts: [{ exp_labels: { severity: 'warning' } }] }] }] };
    expect(alertTestCoverageProblems(broken, tests)).toEqual(['alert TargetProfileSinkLagging: no unit test where it does not fire']);
  });
});
