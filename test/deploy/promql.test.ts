/** Reading metric names out of PromQL, and the series names a registry exposes. */
import { describe, expect, it } from 'vitest';
import { exportedSeriesNames, metricNamesIn, selectorsIn } from './promql.js';

describe('metricNamesIn', () => {
  it('finds the histogram series inside a Grafana quantile query, not the functions, labels or variables', () => {
    const expr = 'histogram_quantile(0.99, sum by (le) (rate(tps_request_duration_seconds_bucket{job=~"$job",instance=~"${instance}"}[$__rate_interval])))';
    expect(metricNamesIn(expr)).toEqual(['tps_request_duration_seconds_bucket']);
  });

  it('reads both sides of binary operations, skipping keywords, label lists, numbers and durations', () => {
    const expr = `
      max by (topic, partition) (tps_consumer_lag) > 1000
      and on (topic) group_left(endpoint)
      deriv(tps_consumer_lag[10m] offset 1h) * 1e-3 > bool 0
      or sum without (instance) (tps_ready @ start()) unless absent(tps_quota_remaining[5m:1m])`;
    expect(metricNamesIn(expr)).toEqual(['tps_consumer_lag', 'tps_ready', 'tps_quota_remaining']);
  });

  it('ignores strings, comments and matchers, even ones holding braces or metric-like words', () => {
    const expr = `label_replace(tps_retries_total{reason="5xx}", topic!~'a{b'}, "dst", "$1 tps_fake_total", "reason", "(.*)") # tps_commented_total`;
    expect(selectorsIn(expr)).toEqual([{ metric: 'tps_retries_total', matchers: `reason="5xx}", topic!~'a{b'` }]);
  });

  it('names every metric once, in order of first use', () => {
    expect(metricNamesIn('a_total / b + a_total - c{x="1"}')).toEqual(['a_total', 'b', 'c']);
  });
});

describe('exportedSeriesNames', () => {
  it('exposes histograms and summaries under their suffixed series, counters and gauges as named', () => {
    const names = exportedSeriesNames([
      { name: 'latency_seconds', type: 'histogram' },
      { name: 'size_bytes', type: 'summary' },
      { name: 'sent_total', type: 'counter' },
      { name: 'queue_depth', type: 'gauge' },
    ]);
    expect([...names].sort()).toEqual([
      'latency_seconds_bucket',
      'latency_seconds_count',
      'latency_seconds_sum',
      'queue_depth',
      'sent_total',
      'size_bytes',
      'size_bytes_count',
      'size_bytes_sum',
    ]);
  });
});
