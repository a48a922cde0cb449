import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const script = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** Only the integration project has a broker; the unit project provides none (vitest.config.ts). */
    kafkaBrokers?: string[];
  }
}

/** Starts the local broker unless KAFKA_BROKERS names one; stops it only if this run started it. */
export default function setup(project: TestProject): () => void {
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    project.provide(
      'kafkaBrokers',
      given.split(',').map((b) => b.trim()),
    );
    return () => {};
  }
  const port = process.env.KAFKA_PORT ?? '9092';
  const outcome = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  project.provide('kafkaBrokers', [`127.0.0.1:${port}`]);
  return () => {
    if (outcome === 'started') execFileSync('bash', [script, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  };
}
