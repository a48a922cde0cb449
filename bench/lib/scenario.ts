/** What a benchmark scenario is and what it hands back to the runner. */

/** One line of the summary table at the top of BENCHMARKS.md. */
export interface SummaryRow {
  figure: string;
  value: string;
  target: string;
  /** met / not met against a target; info when there is no target. */
  status: 'met' | 'not met' | 'info';
}

export interface ScenarioOutcome {
  /** The scenario's section of BENCHMARKS.md, without its `## name` heading. */
  markdown: string;
  summary: SummaryRow[];
  /** Named figures other scenarios may use (e.g. the ceiling for e2e-fast's ratio). */
  figures: Record<string, number>;
}

export interface RunContext {
  /** Repetitions for short scenarios (median reported). */
  runs: number;
  /** Small sizes for trying the benchmark out; figures are then not representative. */
  quick: boolean;
  /** `n`, or a tenth of it (at least `min`) in quick mode. */
  size(n: number, min?: number): number;
  /** A consumer group id no run used before; deleted at the end. */
  group(label: string): string;
  /** Figures of scenarios that ran earlier in this invocation, or in the last recorded run. */
  figure(scenario: string, name: string): { value: number; date: string; fresh: boolean } | undefined;
  /** Extra child-node flags for the connector runs (e.g. --cpu-prof), if any. */
  profileDir?: string;
}

export interface Scenario {
  name: string;
  /** One line: what it measures. */
  title: string;
  run(ctx: RunContext): Promise<ScenarioOutcome>;
}

/** A markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
