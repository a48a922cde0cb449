/**
 * scripts/kafka.sh start|stop|reset on a private broker (own ports and folder, the cached jars),
 * never the shared one the other tests use.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdPort, lastLine, privateBroker, processesUsing, runKafkaScript, type PrivateBroker } from '../support/local-broker.js';

const STARTED = '[2026-01-05 08:00:00,000] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)\n';

/** About `lines` × 100 bytes of broker-like log lines. */
function filler(lines: number): string {
  let text = '';
  for (let i = 0; i < lines; i++)
    text += `[2026-01-05 08:00:01,000] INFO [Broker id=1] Leader filler-${i} starts at leader epoch 0 from offset 0 (state.change.logger)\n`;
  return text;
}

let broker: PrivateBroker;

beforeAll(async () => {
  broker = await privateBroker();
});

afterAll(async () => {
  // Whatever a failed test left running; the folder itself goes with the file's temporary folders.
  if (broker) await runKafkaScript(['stop'], broker.env);
});

/** Asserts the script left no broker process and no pid file behind. */
function expectNothingLeft(): void {
  expect(existsSync(broker.pidFile)).toBe(false);
  expect(processesUsing(broker.home)).toEqual([]);
}

describe('a start that cannot work fails at once, says why, and leaves nothing running', () => {
  it('names a taken broker port and KAFKA_PORT', async () => {
    const server = await holdPort(broker.port);
    try {
      const result = await runKafkaScript(['start'], broker.env);
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toMatch(
        new RegExp(`^kafka\\.sh: error: port ${broker.port} \\(the broker port\\) is already in use by another process.*; set KAFKA_PORT to a free port$`),
      );
      expectNothingLeft();
    } finally {
      server.close();
    }
  });

  it('names a taken controller port and KAFKA_CONTROLLER_PORT', async () => {
    const server = await holdPort(broker.controllerPort);
    try {
      const result = await runKafkaScript(['start'], broker.env);
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toMatch(
        new RegExp(
          `^kafka\\.sh: error: port ${broker.controllerPort} \\(the controller port\\) is already in use by another process.*; set KAFKA_CONTROLLER_PORT to a free port$`,
        ),
      );
      expectNothingLeft();
    } finally {
      server.close();
    }
  });

  it('says that Java is missing, not Maven, even with the jars cached', async () => {
    const noJdk = join(broker.home, 'no-jdk');
    const result = await runKafkaScript(['start'], { ...broker.env, JAVA_HOME: noJdk });
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      `kafka.sh: error: Java 17+ is needed to run Kafka, and there is no java at ${noJdk}/bin/java (from JAVA_HOME); install a JDK 17 or later`,
    );
    expectNothingLeft();
  });

  it('names a data folder the broker cannot use, and reset wipes it', async () => {
    await mkdir(broker.dataDir, { recursive: true });
    await writeFile(join(broker.dataDir, 'meta.properties'), 'version=1\n');
    const result = await runKafkaScript(['start'], broker.env);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toMatch(
      new RegExp(
        `^kafka\\.sh: error: the data folder ${broker.dataDir} cannot be used \\(.+\\); 'bash scripts/kafka\\.sh reset' with the same KAFKA_PORT wipes it$`,
      ),
    );
    expectNothingLeft();

    expect(await runKafkaScript(['reset'], broker.env)).toMatchObject({ code: 0 });
    expect(existsSync(broker.dataDir)).toBe(false);
    expect(existsSync(broker.logFile)).toBe(false);
  }, 60_000);
});

describe('five starts in a row', () => {
  it('sees each start within the timeout however much follows a "Kafka Server started" line, and stop leaves nothing', async () => {
    // The log of earlier runs: a started line with more than a megabyte after it.
    await writeFile(broker.logFile, STARTED + filler(12_000));
    for (let round = 1; round <= 5; round++) {
      let flooded = false;
      // A broker with many partitions writes far more than a pipe holds right after its started
      // line; the flood lands once the script has measured the log, so it reads it as this start's.
      const result = await runKafkaScript(['start'], { ...broker.env, KAFKA_START_TIMEOUT: '90' }, (stderr) => {
        if (flooded || !stderr.includes('kafka.sh: starting Kafka')) return;
        flooded = true;
        appendFileSync(broker.logFile, STARTED + filler(12_000));
      });
      expect(result, `start ${round}: ${result.stderr}`).toMatchObject({ code: 0, stdout: 'started' });
      expect(flooded).toBe(true);
      expect((await runKafkaScript(['status'], broker.env)).stdout).toMatch(new RegExp(`^running pid=\\d+ brokers=127\\.0\\.0\\.1:${broker.port}$`));

      // The last round ends with reset: it stops the broker and wipes its data folder and log.
      const end = await runKafkaScript([round < 5 ? 'stop' : 'reset'], broker.env);
      expect(end, `end of round ${round}: ${end.stderr}`).toMatchObject({ code: 0 });
      expectNothingLeft();
    }
    expect(existsSync(broker.dataDir)).toBe(false);
    expect(existsSync(broker.logFile)).toBe(false);
  }, 600_000);
});
