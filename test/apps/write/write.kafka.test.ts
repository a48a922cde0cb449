import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runWrite } from '../../../connector/apps/write/write.js';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleEvent } from '../../../connector/tools/sample-events.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { expectedProfiles, waitFor } from '../../support/delivery-harness.js';
import { lines, protocolMessage } from '../../support/airbyte-protocol.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from '../../support/kafka.js';
import { DLQ_HEADERS } from '../../../connector/adapters/kafka/headers.js';
import { writeAirbyteWorkspace, type Workspace } from '../../support/airbyte-workspace.js';

const quiet = createLogger({ level: 'silent' });
let sandbox: Sandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function sandboxAndWorkspace(
  sandboxOptions: Parameters<typeof startSandbox>[0] = {},
  delivery: Record<string, unknown> = {},
  kafka?: Record<string, unknown>,
) {
  sandbox = await startSandbox({ createMissing: true, ...sandboxOptions });
  return { sandbox, workspace: writeAirbyteWorkspace({ targetUrl: sandbox.url, delivery, kafka }) };
}

/** The first `count` records of a topic, with text headers. */
async function readTopic(topic: string, count: number): Promise<Array<{ value: string; headers: Record<string, string> }>> {
  const consumer = testKafka('write-dlq-reader').consumer({ groupId: uniqueTopic('write-dlq-reader') });
  await consumer.connect();
  const letters: Array<{ value: string; headers: Record<string, string> }> = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          value: String(message.value),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await waitFor(`${count} records on ${topic}`, () => letters.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/** A RECORD line for a sample event, its data in the JSON form an Airbyte source sends. */
function recordLine(event: SampleEvent, stream: string = event.topic): string {
  return JSON.stringify({ type: 'RECORD', record: { stream, data: JSON.parse(JSON.stringify(event.value)) as unknown, emitted_at: 1 } });
}

function stateLine(n: number): string {
  return JSON.stringify({ type: 'STATE', state: { type: 'LEGACY', data: { position: n } } });
}

/** A stdout line with the time it was printed. */
interface Printed {
  line: string;
  at: number;
}

/** Runs `write` on `input` (lines, or a stream) and collects what it prints. */
async function write(workspace: Workspace, streams: string[], input: string[] | Readable, onLine?: (line: string) => void) {
  const printed: Printed[] = [];
  let err = '';
  const code = await runWrite(
    { config: workspace.config, catalog: workspace.catalog(streams) },
    {
      input: Array.isArray(input) ? Readable.from(input.map((l) => `${l}\n`)) : input,
      output: {
        out: (text) => {
          for (const line of lines(text)) {
            printed.push({ line, at: Date.now() });
            onLine?.(line);
          }
        },
        err: (text) => (err += text),
      },
      logger: quiet,
    },
  );
  return { code, printed, out: printed.map((p) => p.line), err };
}

/** Sample loyalty swipes for the given customers, one each, in order. */
function swipes(customers: string[]): SampleEvent[] {
  const events = generateSampleEvents({ count: customers.length, topics: [SAMPLE_TOPICS.loyalty], seed: 11 });
  return events.map((e, i) => {
    const value = e.value as { card: Record<string, unknown> };
    const customer = customers[i] as string;
    return { ...e, key: customer, value: { ...e.value, card: { ...value.card, customerId: customer } } };
  });
}

const eventId = (e: SampleEvent) => e.value.eventId as string;

describe('write delivers RECORD messages', () => {
  it('delivers every record through the mapping and echoes the STATEs in order', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace();
    const events = generateSampleEvents({ count: 30, customers: 6, seed: 5 });
    const input = events.flatMap((e, i) => (i % 10 === 9 ? [recordLine(e), stateLine(i)] : [recordLine(e)]));
    const { code, out, err } = await write(workspace, Object.values(SAMPLE_TOPICS), input);

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toEqual([stateLine(9), stateLine(19), stateLine(29)]);
    out.forEach((line) => protocolMessage(line, 'STATE'));
    for (const [customer, attributes] of expectedProfiles(events)) {
      expect(sandbox.profile('mbox3rdPartyId', customer)).toEqual(attributes);
    }
  });

  it('never echoes a STATE before the records before it are acknowledged by a slow Target', async () => {
    const latencyMs = 400;
    const { sandbox, workspace } = await sandboxAndWorkspace({ latencyMs });
    // r3 is for r1's profile, so it is sent only after r1 is answered and answered ~latency later.
    const [r1, r2, r3] = swipes(['A', 'B', 'A']) as [SampleEvent, SampleEvent, SampleEvent];
    const seenAtState = new Map<string, number>();
    const { code, printed } = await write(
      workspace,
      [SAMPLE_TOPICS.loyalty],
      [recordLine(r1), recordLine(r2), stateLine(1), recordLine(r3), stateLine(2)],
      (line) => seenAtState.set(line, sandbox.updates().length),
    );
    expect(code).toBe(0);
    expect(printed.map((p) => p.line)).toEqual([stateLine(1), stateLine(2)]);

    const answeredAt = (event: SampleEvent) => {
      const update = sandbox.updates().find((u) => u.attributes.swipeEventId === eventId(event));
      expect(update, `update for ${eventId(event)}`).toBeDefined();
      return Date.parse(update?.receivedAt ?? '') + latencyMs;
    };
    const [s1, s2] = printed as [Printed, Printed];
    // Timers may fire a millisecond early; the margin stays far below the latency.
    const slack = 5;
    expect(s1.at).toBeGreaterThanOrEqual(answeredAt(r1) - slack);
    expect(s1.at).toBeGreaterThanOrEqual(answeredAt(r2) - slack);
    expect(s2.at).toBeGreaterThanOrEqual(answeredAt(r3) - slack);
    // ...and s1 does not wait for r3, which was read after it.
    expect(s1.at).toBeLessThan(answeredAt(r3));
    expect(seenAtState.get(stateLine(1))).toBeGreaterThanOrEqual(2);
    expect(seenAtState.get(stateLine(2))).toBe(3);
  });

  it('reads no further than delivery.max_pending records in flight', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace({ latencyMs: 150 }, { max_pending: 2 });
    const events = swipes(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']);
    const { code } = await write(
      workspace,
      [SAMPLE_TOPICS.loyalty],
      events.map((e) => recordLine(e)),
    );
    expect(code).toBe(0);
    expect(sandbox.stats().updates).toBe(8);
    // concurrency is 16: without backpressure all eight would be in flight together.
    expect(sandbox.stats().maxInFlight).toBe(2);
  });

  it('waits for records still in flight when the input ends', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace({ latencyMs: 200 });
    const input = new PassThrough();
    const [event] = swipes(['late']) as [SampleEvent];
    const running = write(workspace, [SAMPLE_TOPICS.loyalty], input);
    input.end(`${recordLine(event)}\n${stateLine(1)}\n`);
    const { code, out } = await running;
    expect(code).toBe(0);
    expect(out).toEqual([stateLine(1)]);
    expect(sandbox.profile('mbox3rdPartyId', 'late')).toMatchObject({ swipeEventId: eventId(event) });
  });
});

describe('write never loses a record', () => {
  it('reports lines that are no records as LOG WARN and goes on', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace();
    const [good] = swipes(['ok-1']) as [SampleEvent];
    const input = ['{not json', JSON.stringify({ type: 'TRACE', trace: { type: 'ESTIMATE' } }), '', recordLine(good), stateLine(1)];
    const { code, out } = await write(workspace, [SAMPLE_TOPICS.loyalty], input);
    expect(code).toBe(0);
    const logs = out.slice(0, -1).map((line) => protocolMessage<{ log: { level: string; message: string } }>(line, 'LOG').log);
    expect(logs).toEqual([
      { level: 'WARN', message: expect.stringMatching(/^line 1: not JSON/) as string },
      { level: 'WARN', message: 'line 2: ignored a TRACE message; write reads RECORD and STATE messages' },
    ]);
    expect(out.at(-1)).toBe(stateLine(1));
    expect(sandbox.updates().map((u) => u.identity.value)).toEqual(['ok-1']);
  });

  it("with a dead-letter topic: a record that cannot be delivered goes there with run's reason headers, and the STATE after it follows", async () => {
    const deadLetter = uniqueTopic('write.dlq');
    await createTopics([deadLetter]);
    const { sandbox, workspace } = await sandboxAndWorkspace({}, { dead_letter_topic: deadLetter }, { brokers: testBrokers() });
    // The sandbox refuses one profile (400) while it accepts the others: that record's own fault.
    sandbox.setFaults({ rejectIds: ['refused'] });
    const [good, other, slashed, refused] = swipes(['ok-1', 'ok-2', 'a/b', 'refused']) as [SampleEvent, SampleEvent, SampleEvent, SampleEvent];
    const badEnum = { ...other, value: { ...other.value, channel: 'FAX' } };
    const input = [recordLine(good, 'orders.unknown'), recordLine(badEnum), recordLine(slashed), recordLine(refused), recordLine(good), stateLine(1)];
    const { code, out } = await write(workspace, [SAMPLE_TOPICS.loyalty], input);
    expect(code).toBe(0);
    const logs = out.slice(0, -1).map((line) => protocolMessage<{ log: { level: string; message: string } }>(line, 'LOG').log);
    expect(logs.map((l) => l.level)).toEqual(['WARN', 'WARN', 'WARN', 'WARN']);
    expect(logs.map((l) => l.message).sort()).toEqual([
      expect.stringMatching(
        /^line 1 \(stream orders\.unknown\): went to the dead-letter topic: .*unknown stream "orders\.unknown"; the catalog configures loyalty\.card\.swiped/,
      ),
      expect.stringMatching(/^line 2 \(stream loyalty\.card\.swiped\): went to the dead-letter topic: .*does not match schema .*channel = "FAX"/),
      expect.stringMatching(/^line 3 \(stream loyalty\.card\.swiped\): went to the dead-letter topic: .*mbox3rdPartyId/),
      expect.stringMatching(/^line 4 \(stream loyalty\.card\.swiped\): went to the dead-letter topic: .*400/),
    ]);
    expect(out.at(-1)).toBe(stateLine(1));
    expect(sandbox.updates().map((u) => u.identity.value)).toEqual(['ok-1']);

    const letters = await readTopic(deadLetter, 4);
    const codes = letters.map((l) => l.headers[DLQ_HEADERS.errorCode]).sort();
    expect(codes).toEqual(['DECODE_FAILED', 'DECODE_FAILED', 'TARGET_REJECTED', 'UNMAPPABLE_EVENT']);
    const rejected = letters.find((l) => l.headers[DLQ_HEADERS.errorCode] === 'TARGET_REJECTED');
    expect(rejected?.headers[DLQ_HEADERS.sourceTopic]).toBe(SAMPLE_TOPICS.loyalty);
    expect(rejected?.headers[DLQ_HEADERS.sourceOffset]).toBe('3');
    expect(JSON.parse(rejected?.value ?? '')).toMatchObject({ card: { customerId: 'refused' } });
  });

  it('without a dead-letter topic: the first record that cannot be delivered fails the sync, and no STATE after it is echoed', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace();
    sandbox.setFaults({ rejectIds: ['refused'] });
    const [good, refused, later] = swipes(['ok-1', 'refused', 'ok-2']) as [SampleEvent, SampleEvent, SampleEvent];
    const { code, out } = await write(
      workspace,
      [SAMPLE_TOPICS.loyalty],
      [recordLine(good), stateLine(1), recordLine(refused), recordLine(later), stateLine(2)],
    );
    expect(code).not.toBe(0);
    expect(out.filter((l) => l.includes('"STATE"'))).toEqual([stateLine(1)]);
    const trace = protocolMessage<{ trace: { error: { message: string } } }>(out.at(-1), 'TRACE');
    expect(trace.trace.error.message).toMatch(
      /^line 3 \(stream loyalty\.card\.swiped\) cannot be delivered and no delivery\.dead_letter_topic is configured: .*400/,
    );
  });
});

describe('write refuses a catalog it cannot serve', () => {
  it('names the unknown stream and the valid ones in a TRACE ERROR, and exits non-zero', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace();
    const { code, out, err } = await write(workspace, [SAMPLE_TOPICS.crm, 'orders.unknown'], [stateLine(1)]);
    expect(code).toBe(2);
    expect(out).toHaveLength(1);
    const { trace } = protocolMessage<{ trace: { error: { message: string; failure_type: string } } }>(out[0], 'TRACE');
    expect(trace.error.failure_type).toBe('config_error');
    expect(trace.error.message).toContain('streams[1]: "orders.unknown" is not a mapped topic');
    expect(trace.error.message).toContain(`valid streams (the mapping's topics): ${Object.values(SAMPLE_TOPICS).join(', ')}`);
    expect(err).toContain('orders.unknown');
    expect(sandbox.stats().requests).toBe(0);
  });

  it('fails on a catalog file it cannot read', async () => {
    const { workspace } = await sandboxAndWorkspace();
    const printed: string[] = [];
    const code = await runWrite(
      { config: workspace.config, catalog: `${workspace.dir}/missing.json` },
      { input: Readable.from([]), output: { out: (t) => printed.push(...lines(t)), err: () => {} }, logger: quiet },
    );
    expect(code).toBe(2);
    expect(protocolMessage<{ trace: { error: { message: string } } }>(printed[0], 'TRACE').trace.error.message).toMatch(
      /missing\.json cannot read the catalog/,
    );
  });
});

describe('write waits out a Target outage', () => {
  it('fails nothing during an outage and, past delivery.outage_budget_ms, fails the sync with no STATE after the undelivered record', async () => {
    const { sandbox, workspace } = await sandboxAndWorkspace({}, { outage_budget_ms: 1500 });
    const events = swipes(['c1', 'c2', 'c3', 'c4']);
    const input = new PassThrough();
    let delivered = 0;
    input.write(`${recordLine(events[0] as SampleEvent)}\n${stateLine(1)}\n`);
    const running = write(workspace, [SAMPLE_TOPICS.loyalty], input, (line) => {
      // Target goes down for good once the first STATE came back.
      if (line.includes('"STATE"') && delivered++ === 0) {
        sandbox.setFaults({ failRate: 1 });
        input.write(
          `${events
            .slice(1)
            .map((e) => recordLine(e))
            .join('\n')}\n${stateLine(2)}\n`,
        );
      }
    });
    const { code, out } = await running;
    input.end();
    expect(code).not.toBe(0);
    const states = out.filter((l) => l.includes('"STATE"'));
    expect(states).toHaveLength(1);
    const trace = protocolMessage<{ trace: { error: { message: string; failure_type: string } } }>(out.at(-1), 'TRACE');
    expect(trace.trace.error.message).toContain('outage budget');
    expect(trace.trace.error.failure_type).toBe('system_error');
    // An outage is no record's fault: nothing was reported as failed.
    expect(out.filter((l) => l.includes('not delivered'))).toEqual([]);
    expect(sandbox.stats().byStatus['503'] ?? 0).toBeGreaterThan(0);
  });
});
