/**
 * ceiling: what the two ends allow without the connector in between. (a) kafkajs alone reading
 * the e2e-fast topic; (b) undici alone sending the e2e-fast requests to the sandbox at the
 * connector's default concurrency. The lower of the two, in events/s, is the ceiling e2e-fast is
 * compared with.
 */
import { cpus } from 'node:os';
import type { RawConsumeParams, RawConsumeResult } from '../child/raw-consumer.js';
import type { RawHttpParams, RawHttpResult } from '../child/raw-http.js';
import { startChild } from '../lib/children.js';
import { benchBrokers } from '../lib/kafka.js';
import { benchSandbox, prepare } from '../lib/pipeline.js';
import { table, type Scenario } from '../lib/scenario.js';
import { cpuWindow, fixed, int, median, say, spread, type CpuWindow } from '../lib/util.js';
import { benchWorkloads } from '../lib/workloads.js';
import { writeWorkspace } from '../lib/workspace.js';

/** The connector's default `delivery.concurrency`, which e2e-fast runs with. */
export const E2E_FAST_CONCURRENCY = 32;

/** Median cores, e.g. "0.85 cores". */
export function cpuText(values: number[]): string {
  return `${fixed(median(values), 2)} cores`;
}

export const ceiling: Scenario = {
  name: 'ceiling',
  title: 'raw kafkajs consumption and raw undici requests to the sandbox',
  async run(ctx) {
    const { distinct } = benchWorkloads((n, min) => ctx.size(n, min));
    const topic = await prepare(distinct);
    const httpRequests = ctx.size(60_000);

    const consume: RawConsumeResult[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const child = startChild<RawConsumeParams, RawConsumeResult>(
        'raw-consumer',
        { brokers: benchBrokers(), topic, groupId: ctx.group('ceiling-kafka'), count: distinct.count },
        { timeoutMs: 300_000 },
      );
      const r = await child.result;
      await child.exited;
      consume.push(r);
      say(`  ceiling kafka run ${i + 1}: ${int((r.records * 1000) / r.runMs)} records/s, ${fixed((r.cpuSeconds * 1e6) / r.records, 2)} µs CPU/record`);
    }

    const http: Array<RawHttpResult & { cpu?: CpuWindow }> = [];
    // The same updates as POSTs (form body), alternated with the GET runs: which costs the client less per request.
    const posts: RawHttpResult[] = [];
    const sandbox = await benchSandbox({ latencyMs: 0, createMissing: false });
    try {
      const configPath = await writeWorkspace({ topics: [topic], targetUrl: sandbox.url, groupId: 'unused' });
      for (let i = 0; i < ctx.runs; i++) {
        for (const asPost of [false, true]) {
          let stop: (() => CpuWindow) | undefined;
          let cpu: CpuWindow | undefined;
          const child = startChild<RawHttpParams, RawHttpResult>(
            'raw-http',
            { configPath, workload: distinct, requests: httpRequests, concurrency: E2E_FAST_CONCURRENCY, asPost },
            { timeoutMs: 300_000, onMark: (name) => (name === 'start' ? (stop = cpuWindow()) : (cpu = stop?.())) },
          );
          const r = await child.result;
          await child.exited;
          if (r.failures > 0) throw new Error(`${r.failures} raw requests failed`);
          if (asPost) posts.push(r);
          else http.push({ ...r, cpu });
          say(
            `  ceiling http run ${i + 1}${asPost ? ' as POST' : ''}: ${int((r.requests * 1000) / r.runMs)} requests/s, client ${fixed((r.cpuSeconds * 1e6) / r.requests, 1)} µs CPU/request`,
          );
        }
      }
    } finally {
      await sandbox.close();
    }

    const kafkaRates = consume.map((r) => (r.records * 1000) / r.runMs);
    const httpRates = http.map((r) => (r.requests * 1000) / r.runMs);
    const kafkaRate = median(kafkaRates);
    const httpRate = median(httpRates);
    const postRates = posts.map((r) => (r.requests * 1000) / r.runMs);
    const getCpu = median(http.map((r) => (r.cpuSeconds * 1e6) / r.requests));
    const postCpu = median(posts.map((r) => (r.cpuSeconds * 1e6) / r.requests));
    // Filtered events (MERGED/DELETED) need no request, so one request carries this many events.
    const requestsPerEvent = ctx.figure('e2e-fast', 'requestsPerEvent')?.value ?? 0.93;
    const httpEventRate = httpRate / requestsPerEvent;
    const ceilingRate = Math.min(kafkaRate, httpEventRate);
    const limit = kafkaRate <= httpEventRate ? 'Kafka consumption' : 'HTTP to the sandbox';
    const markdown = [
      `Ceiling (a): kafkajs alone reads the e2e-fast topic (${int(distinct.count)} CRM records, ${distinct.partitions} partitions, same consumer`,
      'settings as the connector, `eachBatch` only counts). Ceiling (b): undici alone (`Pool`, one connection per slot) sends the',
      `first ${int(httpRequests)} requests the connector builds for that workload to the in-process sandbox (no latency,`,
      `update-only), ${E2E_FAST_CONCURRENCY} in flight. Both clients run in a child process; medians of ${ctx.runs} runs.`,
      '',
      table(
        ['measure', 'median', 'runs (min–max)', 'client CPU'],
        [
          [
            '(a) kafkajs consumption',
            `${int(kafkaRate)} records/s`,
            spread(kafkaRates),
            `${fixed(median(consume.map((r) => (r.cpuSeconds * 1000) / r.runMs)) * 100, 0)}% of a core`,
          ],
          [
            '(b) undici → sandbox',
            `${int(httpRate)} requests/s`,
            spread(httpRates),
            `${fixed(median(http.map((r) => (r.cpuSeconds * 1000) / r.runMs)) * 100, 0)}% of a core`,
          ],
          ['(b) as events (÷ ' + fixed(requestsPerEvent, 3) + ' requests/event)', `${int(httpEventRate)} events/s`, '—', '—'],
          ['**ceiling**', `**${int(ceilingRate)} events/s**`, `limited by ${limit}`, ''],
        ],
      ),
      '',
      `Mean request size ${int(median(http.map((r) => r.meanBytes)))} bytes (GET URL). During (b): client ${cpuText(http.map((r) => (r.cpuSeconds * 1000) / r.runMs))},`,
      `sandbox ${cpuText(http.map((r) => r.cpu?.sandboxCores ?? Number.NaN))}, broker ${cpuText(http.map((r) => r.cpu?.brokerCores ?? Number.NaN))}, whole machine ${cpuText(http.map((r) => r.cpu?.machineCores ?? Number.NaN))} of ${cpus().length}`,
      `(CPU per request: client ${fixed(median(http.map((r) => (r.cpuSeconds * 1e6) / r.requests)), 0)} µs, sandbox ${fixed(median(http.map((r) => ((r.cpu?.sandboxCores ?? Number.NaN) * r.runMs * 1000) / r.requests)), 0)} µs).`,
      '',
      `GET or POST: the same updates sent as POSTs (identity in the URL, attributes as a form body), each POST run right after a GET run: ` +
        `${int(median(postRates))} requests/s (${spread(postRates)}), client ${fixed(postCpu, 0)} µs CPU/request against GET's ${fixed(getCpu, 0)} µs ` +
        `(POST ÷ GET: ${fixed(postCpu / getCpu, 2)} of the CPU, ${fixed(median(postRates) / httpRate, 2)} of the rate). ` +
        `${postCpu > getCpu ? 'GET is cheaper: the request builder keeps GET for every update whose URL fits 8 KB, POST only beyond.' : 'POST is not dearer here than GET.'}`,
    ].join('\n');
    return {
      markdown,
      summary: [
        { figure: 'ceiling (a) kafkajs consumption', value: `${int(kafkaRate)} records/s`, target: '—', status: 'info' },
        { figure: 'ceiling (b) undici → sandbox', value: `${int(httpRate)} requests/s`, target: '—', status: 'info' },
        {
          figure: 'ceiling (b) client CPU per request, GET vs the same as POST',
          value: `${fixed(getCpu, 0)} vs ${fixed(postCpu, 0)} µs`,
          target: 'keep the cheaper for small updates',
          status: 'info',
        },
      ],
      figures: { kafkaRate, httpRate, httpEventRate, ceilingRate },
    };
  },
};
