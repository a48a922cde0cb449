/**
 * deploy/grafana/target-profile-sink.json against the metrics the connector really exports (built
 * by its own createMetrics()), and the minimal shape Grafana needs to import it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dashboardShapeProblems,
  DATASOURCE_UID,
  exportedNames,
  loadDashboard,
  panelQueries,
  unfilteredSelectorProblems,
  unknownMetricProblems,
  variableQueries,
  type Dashboard,
} from './ops-kit.js';
import { metricNamesIn } from './promql.js';

let exported: Set<string>;

beforeAll(async () => {
  exported = await exportedNames();
});

describe('the dashboard', () => {
  const dashboard = loadDashboard();

  it('has the shape Grafana imports: title, uid, current schemaVersion, datasource/job/instance variables, every panel with a title, datasource and query', () => {
    expect(dashboardShapeProblems(dashboard)).toEqual([]);
  });

  it('reads only metrics the connector exports, in every panel query and variable', () => {
    expect(panelQueries(dashboard).length).toBeGreaterThan(0);
    expect(unknownMetricProblems([...panelQueries(dashboard), ...variableQueries(dashboard)], exported)).toEqual([]);
  });

  it('filters every panel query by the job and replica chosen at the top', () => {
    expect(unfilteredSelectorProblems(dashboard)).toEqual([]);
  });

  it('is laid out in the rows Throughput, Delivery health, Quota, Bulk, Kafka and Real-time', () => {
    expect((dashboard.panels ?? []).filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Throughput',
      'Delivery health',
      'Quota',
      'Bulk',
      'Kafka',
      'Real-time (Delivery API)',
    ]);
  });

  it('shows every connector metric (tps_*) somewhere', () => {
    const shown = new Set(panelQueries(dashboard).flatMap(({ expr }) => metricNamesIn(expr)));
    const missing = [...exported].filter((name) => name.startsWith('tps_') && !/_(sum|count)$/.test(name) && !shown.has(name));
    expect(missing, 'connector metrics without a panel').toEqual([]);
  });
});

describe('the checks catch a broken dashboard', () => {
  /** A one-panel dashboard otherwise like the real one. */
  function withPanel(panel: object): Dashboard {
    const real = loadDashboard();
    return { ...real, panels: [panel] };
  }

  it('names the panel, the query and the metric that does not exist', () => {
    const broken = withPanel({
      id: 1,
      type: 'timeseries',
      title: 'Events by outcome',
      datasource: { type: 'prometheus', uid: DATASOURCE_UID },
      gridPos: { x: 0, y: 0, w: 12, h: 8 },
      targets: [
        { refId: 'A', expr: 'sum(rate(tps_events_deliverd_total{job=~"$job",instance=~"$instance"}[$__rate_interval]))' },
        // Histograms are exported only as _bucket, _sum and _count; counters only with _total.
        { refId: 'B', expr: 'tps_request_duration_seconds{job=~"$job",instance=~"$instance"} + tps_retries{job=~"$job",instance=~"$instance"}' },
      ],
    });
    expect(unknownMetricProblems(panelQueries(broken), exported)).toEqual([
      'panel "Events by outcome" query A: tps_events_deliverd_total is not a metric the connector exports',
      'panel "Events by outcome" query B: tps_request_duration_seconds is not a metric the connector exports',
      'panel "Events by outcome" query B: tps_retries is not a metric the connector exports',
    ]);
  });

  it('names a variable whose query reads a metric that does not exist', () => {
    const broken: Dashboard = { templating: { list: [{ name: 'instance', type: 'query', query: { query: 'label_values(tps_up{job=~"$job"}, instance)' } }] } };
    expect(unknownMetricProblems(variableQueries(broken), exported)).toEqual(['variable instance: tps_up is not a metric the connector exports']);
  });

  it('names a panel without title, datasource or query, and one that ignores the chosen replica', () => {
    const broken = withPanel({ id: 7, type: 'stat', gridPos: { x: 0, y: 0, w: 6, h: 4 }, targets: [] });
    expect(dashboardShapeProblems(broken)).toEqual([
      'panel 7 "": no title',
      'panel 7 "": datasource must be ${datasource}, got undefined',
      'panel 7 "": no query',
    ]);
    const unfiltered = withPanel({ id: 8, type: 'stat', title: 'Ready', targets: [{ refId: 'A', expr: 'sum(tps_ready{job=~"$job"})' }] });
    expect(unfilteredSelectorProblems(unfiltered)).toEqual(['panel "Ready" query A: tps_ready is not filtered by job=~"$job" and instance=~"$instance"']);
  });
});
