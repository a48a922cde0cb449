/** Running the connector (in a child process) against a pre-filled topic and the in-process sandbox. */
import { startSandbox, type Sandbox } from '../../connector/tools/sandbox/server.js';
import type { SinkRunParams, SinkRunResult } from '../child/sink-runner.js';
import { startChild } from './children.js';
import { ensureTopic, topicEnds } from './kafka.js';
import type { RunContext } from './scenario.js';
import { cpuWindow, say, type CpuWindow } from './util.js';
import { topicName, workloadTopic, type Workload } from './workloads.js';
import { writeWorkspace } from './workspace.js';

export interface SandboxSetup {
  latencyMs: number;
  /** Store profiles (needed to read the final state back); otherwise Target's update-only answer. */
  createMissing: boolean;
  /** How long bulk batches stay pending before their rows apply; the sandbox's 2 s unless given. */
  bulkDelayMs?: number;
  /** Keep the update log (arrival times), for scenarios that read it back. */
  recordUpdates?: boolean;
}

/** Starts the sandbox the way the benchmarks use it: no update log, seeded, nothing else. */
export function benchSandbox(setup: SandboxSetup): Promise<Sandbox> {
  return startSandbox({
    latencyMs: setup.latencyMs,
    createMissing: setup.createMissing,
    bulkDelayMs: setup.bulkDelayMs,
    recordUpdates: setup.recordUpdates ?? false,
    seed: 1,
  });
}

/** Makes sure the workload's topic exists and is full. */
export async function prepare(workload: Workload): Promise<string> {
  await ensureTopic(await workloadTopic(workload));
  return topicName(workload);
}

export interface SinkRun {
  topics: string[];
  targetUrl: string;
  delivery?: Record<string, unknown>;
  /** The mapping's door (single updates by default). */
  route?: 'realtime';
  label: string;
  timeoutMs?: number;
  /** Flags for the child node (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Called once the child is set up; the run may start producing then. */
  onReady?: (groupId: string) => Promise<void>;
  /** Ends to wait for; default: the topics' current ends. */
  ends?: Array<[string, number, number]>;
}

export interface SinkRunOutcome extends SinkRunResult {
  /** CPU of the sandbox (this process), the broker and the machine from first event to done. */
  cpu?: CpuWindow;
}

/** One connector run in a child process, from the topic's start until every end is committed. */
export async function runSink(ctx: RunContext, run: SinkRun): Promise<SinkRunOutcome> {
  const groupId = ctx.group(run.label);
  const configPath = await writeWorkspace({ topics: run.topics, targetUrl: run.targetUrl, groupId, delivery: run.delivery, route: run.route });
  let ends = run.ends;
  if (!ends) {
    ends = [];
    for (const topic of run.topics) for (const [partition, end] of await topicEnds(topic)) ends.push([topic, partition, end]);
  }
  const timeoutMs = run.timeoutMs ?? 600_000;
  let stopCpu: (() => CpuWindow) | undefined;
  let cpu: CpuWindow | undefined;
  const child = startChild<SinkRunParams, SinkRunResult>(
    'sink-runner',
    { configPath, ends, timeoutMs },
    {
      nodeFlags: run.nodeFlags,
      timeoutMs: timeoutMs + 60_000,
      onMark(name) {
        if (name === 'first-event') stopCpu = cpuWindow();
        else if (name === 'done') cpu = stopCpu?.();
      },
    },
  );
  if (run.onReady) {
    await child.ready;
    await run.onReady(groupId);
  }
  const result = await child.result;
  await child.exited;
  if (!result.complete) say(`  ${run.label}: NOT complete after ${timeoutMs} ms`);
  return { ...result, cpu };
}
