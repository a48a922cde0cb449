import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { demoMapping } from '../../../connector/tools/demo/demo-config.js';
import { demoTopicNames } from '../../../connector/tools/demo/demo-topics.js';
import { DemoError, DemoInterruptedError, formatSummary, runDemo, type DemoReport } from '../../../connector/tools/demo/index.js';
import { provideKafka } from '../../../connector/tools/demo/local-kafka.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { ROOT } from '../../support/delivery-harness.js';
import { testBrokers, testKafka, uniqueTopic } from '../../support/kafka.js';
import { holdPort, privateBroker, processesUsing, runKafkaScript } from '../../support/local-broker.js';

/** A JSON logger at `level` whose lines are handed to `onLine` as parsed objects. */
function lineLogger(level: 'info' | 'warn' | 'error', onLine: (line: Record<string, unknown>) => void = () => {}) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text.trim() !== '') onLine(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level, pretty: false, destination });
}

async function topicsOfRun(runId: string): Promise<string[]> {
  const admin = testKafka('demo-test').admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(`${runId}.`));
  } finally {
    await admin.disconnect();
  }
}

const FIXED: DemoReport = {
  brokers: ['127.0.0.1:9092'],
  startedKafka: true,
  deadLetterTopic: 'demo.x.dlq',
  sampleEvents: 5000,
  malformedEvents: 2,
  run: {
    elapsedMs: 2500,
    consumed: 5002,
    delivered: 4400,
    filtered: 600,
    deadLettered: 2,
    requests: 1200,
    failedRequests: 0,
    retries: 0,
    coalesced: 3100,
    eventsPerSecond: 2000.8,
    eventLatencyMs: { p50: 612.4, p99: 1490.6 },
    requestLatencyMs: { p50: 4.25, p99: undefined },
  },
  deadLetters: [{ topic: 'demo.x.crm', code: 'DECODE_FAILED', message: 'truncated buffer' }],
  clientCode: 'acme',
  profiles: [{ id: 'C-000001', attributes: { tier: 'GOLD', city: 'Malmö' } }],
};

describe('formatSummary', () => {
  it('lays out counts, rates, latencies, dead letters and profiles', () => {
    expect(formatSummary(FIXED)).toBe(
      [
        'target-profile-sink demo: Kafka (127.0.0.1:9092, started for this run) → connector → Target sandbox',
        '',
        '  events produced          5,002   5,000 sample + 2 malformed',
        '  delivered                4,400   acknowledged by Target',
        "  filtered                   600   skipped by the mapping's when conditions",
        '  dead-lettered                2   written to demo.x.dlq',
        '  requests sent            1,200',
        '  updates coalesced        3,100   merged into a queued update for the same profile',
        '  throughput               2,001   events/s over 2.5 s',
        '  request latency     p50 4.3 ms, p99 n/a',
        '  event to ack        p50 612 ms, p99 1,491 ms',
        '',
        'dead letters (the reason travels in the record headers)',
        '  demo.x.crm  DECODE_FAILED: truncated buffer',
        '',
        'profiles read back (GET /rest/v1/profiles/thirdPartyId/<id>?client=acme)',
        '  C-000001',
        '    city  Malmö',
        '    tier  GOLD',
        '',
      ].join('\n'),
    );
  });

  it('times the live swipes of the real-time door, and says how many were not applied in time', () => {
    const text = formatSummary({ ...FIXED, liveSwipes: { produced: 4, appliedMs: [30, 10, 20] } });
    expect(text).toContain(
      '  swipe to profile    p50 20 ms, p99 30 ms   4 live loyalty swipes, produce → applied by the Delivery API (route: realtime); 1 not applied within 10 s\n',
    );
    expect(formatSummary(FIXED)).not.toContain('swipe to profile');
  });

  it('names failed requests and says when no profile could be read back', () => {
    const text = formatSummary({ ...FIXED, run: { ...FIXED.run, failedRequests: 3, retries: 5 }, deadLetters: [], profiles: [] });
    expect(text).toContain('  requests sent            1,200   3 failed, 5 retried\n');
    expect(text).toContain('  (none: no profile was updated)\n');
    expect(text).not.toContain('dead letters');
  });
});

describe('demo set-up', () => {
  it('re-points the example mapping at the run topics, with absolute schema paths and comments kept', () => {
    const topics = demoTopicNames(new Date('2026-01-05T08:00:00Z'), 'beef');
    const text = demoMapping(readFileSync(join(ROOT, 'examples/mapping.yaml'), 'utf8'), join(ROOT, 'examples'), topics);
    const mapping = parse(text) as { mappings: Array<{ topic: string; schema: string }> };
    expect(mapping.mappings.map((m) => m.topic)).toEqual([
      'demo.20260105-080000-beef.crm.customer.updated',
      'demo.20260105-080000-beef.loyalty.card.swiped',
      'demo.20260105-080000-beef.transaction.completed',
    ]);
    expect(mapping.mappings.map((m) => m.schema)).toEqual([
      join(ROOT, 'schemas/crm-customer-updated.avsc'),
      join(ROOT, 'schemas/loyalty-card-swiped.avsc'),
      join(ROOT, 'schemas/transaction-completed.avsc'),
    ]);
    expect(text).toContain('# Loyalty swipes: keep the latest store');
  });

  it('refuses an example mapping that reads a topic it has no sample events for', () => {
    const text = 'version: 1\nmappings:\n  - { topic: orders, identity: { mbox3rdPartyId: id }, attributes: { a: b } }\n';
    expect(() => demoMapping(text, ROOT, demoTopicNames())).toThrow(/orders is not one of the sample topics/);
  });

  it('gives every run fresh, Kafka-legal topic names and group, under the given prefix', () => {
    const a = demoTopicNames();
    const b = demoTopicNames();
    expect(a.runId).not.toBe(b.runId);
    for (const name of [...Object.values(a.bySample), a.deadLetter, a.groupId]) expect(name).toMatch(/^demo\.[A-Za-z0-9._-]+$/);
    const c = demoTopicNames(new Date('2026-01-05T08:00:00Z'), 'beef', 'tests.x');
    expect([...Object.values(c.bySample), c.deadLetter, c.groupId].every((name) => name.startsWith('tests.x.20260105-080000-beef.'))).toBe(true);
  });

  it('uses KAFKA_BROKERS as given and will not stop a cluster it did not start', async () => {
    const kafka = await provideKafka({ brokers: ' 10.0.0.1:9092, 10.0.0.2:9092 ', env: { PATH: '' } });
    expect(kafka).toMatchObject({ brokers: ['10.0.0.1:9092', '10.0.0.2:9092'], origin: 'given' });
    await expect(kafka.stop()).resolves.toBeUndefined();
  });
});

describe('the local broker for the demo', () => {
  it("passes on the script's reason when Java is missing, and does not blame Maven", async () => {
    const broker = await privateBroker();
    const progress: string[] = [];
    const failure = provideKafka({ env: { ...broker.env, JAVA_HOME: join(broker.home, 'no-jdk') }, progress: (line) => progress.push(line) });
    await expect(failure).rejects.toBeInstanceOf(DemoError);
    await expect(failure).rejects.toThrow(
      `the local Kafka broker did not start: Java 17+ is needed to run Kafka, and there is no java at ${broker.home}/no-jdk/bin/java (from JAVA_HOME); ` +
        'install a JDK 17 or later. Set KAFKA_BROKERS=host:port to use a running cluster instead.',
    );
    await expect(failure).rejects.not.toThrow(/Maven/);
  });

  it('names the taken port and its variable, and leaves nothing running', async () => {
    const broker = await privateBroker();
    const server = await holdPort(broker.port);
    try {
      const failure = provideKafka({ env: broker.env, progress: () => {} });
      await expect(failure).rejects.toThrow(
        new RegExp(
          `^the local Kafka broker did not start: port ${broker.port} \\(the broker port\\) is already in use by another process.*; set KAFKA_PORT to a free port\\. Set KAFKA_BROKERS`,
        ),
      );
      expect(existsSync(broker.pidFile)).toBe(false);
      expect(processesUsing(broker.home)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it.skipIf(process.env.KAFKA_BROKERS !== undefined)('says it reuses a broker it did not start, and leaves it running', async () => {
    const kafka = await provideKafka({ progress: () => {} });
    expect(kafka).toMatchObject({ brokers: testBrokers(), origin: 'reused' });
    await kafka.stop();
    expect((await runKafkaScript(['status'], process.env)).stdout).toMatch(/^running pid=/);
  });

  it('stops the broker it started when the run is interrupted', async () => {
    const broker = await privateBroker();
    for (const [name, value] of Object.entries(broker.env)) if (name.startsWith('KAFKA_')) vi.stubEnv(name, value);
    vi.stubEnv('KAFKA_BROKERS', undefined);
    const interrupt = new AbortController();
    // Interrupt as soon as the broker is up: the demo must stop what it started, not leave it running.
    const logger = lineLogger('info', (line) => {
      if (String(line.msg).startsWith('started the local Kafka broker')) interrupt.abort(new DemoInterruptedError('SIGINT'));
    });
    try {
      const run = runDemo({ events: 10, customers: 5, topicPrefix: uniqueTopic('demo'), logger, signal: interrupt.signal });
      await expect(run).rejects.toBeInstanceOf(DemoInterruptedError);
      expect(interrupt.signal.aborted).toBe(true);
      expect(existsSync(broker.pidFile)).toBe(false);
      expect(processesUsing(broker.home)).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      await runKafkaScript(['stop'], broker.env);
    }
  }, 120_000);
});

describe('runDemo against the test broker', () => {
  it('delivers every produced event, dead-letters exactly the malformed ones and reads profiles back', async () => {
    const warnings: string[] = [];
    const logger = lineLogger('warn', (line) => warnings.push(String(line.msg)));
    // With the suite's own local broker the demo takes the path a user's second demo takes: it finds it running.
    const brokers = process.env.KAFKA_BROKERS;
    const report = await runDemo({ events: 600, customers: 200, brokers, topicPrefix: uniqueTopic('demo'), logger });
    if (brokers === undefined) {
      expect(warnings).toContain(`reusing the Kafka broker already running on ${testBrokers().join(',')} (not started by this demo; it stays running)`);
    }

    const { run } = report;
    expect(report.sampleEvents).toBe(600);
    expect(report.malformedEvents).toBe(2);
    expect(report.startedKafka).toBe(false);
    // Nothing lost, nothing counted twice: every produced event ended exactly once.
    expect(run.consumed).toBe(602);
    expect(run.delivered + run.filtered + run.deadLettered).toBe(602);
    expect(run.deadLettered).toBe(report.malformedEvents);
    expect(report.deadLetters.map((d) => d.code).sort()).toEqual(['DECODE_FAILED', 'UNMAPPABLE_EVENT']);
    expect(run.delivered).toBeGreaterThan(0);
    expect(run.filtered).toBeGreaterThan(0);
    expect(run.requests).toBeGreaterThan(0);
    expect(run.requestLatencyMs.p99).toBeDefined();
    expect(run.eventLatencyMs.p50).toBeDefined();

    expect(report.profiles).toHaveLength(3);
    for (const profile of report.profiles) {
      expect(profile.id).toMatch(/^C-\d{6}$/);
      expect(Object.keys(profile.attributes).length).toBeGreaterThan(0);
    }
    // The loyalty mapping takes the real-time door: every live swipe reached its profile.
    expect(report.liveSwipes?.produced).toBe(50);
    expect(report.liveSwipes?.appliedMs).toHaveLength(50);
    const text = formatSummary(report);
    for (const profile of report.profiles) expect(text).toContain(`\n  ${profile.id}\n`);
    expect(text).toContain('50 live loyalty swipes, produce → applied by the Delivery API (route: realtime)');

    // What the run created on the cluster is gone again.
    expect(await topicsOfRun(report.deadLetterTopic.replace(/\.dlq$/, ''))).toEqual([]);
  });

  it('cleans up after an interruption and rejects with the interruption', async () => {
    const interrupt = new AbortController();
    let runId = '';
    const logger = lineLogger('info', (line) => {
      if (line.msg === 'demo set up') runId = String(line.runId);
      // Interrupt once topics exist and hold events: the worst moment to leave things behind.
      if (line.msg === 'sample events produced') interrupt.abort(new DemoInterruptedError('SIGINT'));
    });
    const topicPrefix = uniqueTopic('demo');
    const run = runDemo({ events: 300, customers: 50, brokers: testBrokers().join(','), topicPrefix, logger, signal: interrupt.signal });

    await expect(run).rejects.toBeInstanceOf(DemoInterruptedError);
    expect(runId.startsWith(`${topicPrefix}.`)).toBe(true);
    expect(await topicsOfRun(runId)).toEqual([]);
  });
});
