/** The scenarios in the order they run and appear in BENCHMARKS.md. */
export const SCENARIO_ORDER = [
  'mapping',
  'ceiling',
  'e2e-fast',
  'e2e-latency',
  'realtime',
  'shared-budget',
  'naive',
  'coalescing',
  'memory',
  'bulk',
  'profile',
];
