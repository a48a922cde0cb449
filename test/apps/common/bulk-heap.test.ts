import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../connector/adapters/config/load.js';
import { fitBulkToHeap } from '../../../connector/apps/common/bulk-heap.js';
import { createLogger } from '../../../connector/observe/logger.js';

const MB = 1024 * 1024;

/** A config with the bulk route in `mode`, the rest defaults. */
function configWith(mode: 'off' | 'auto'): ReturnType<typeof parseConfig> {
  const text = `kafka: { brokers: [127.0.0.1:9092] }\ntarget: { client_code: acme }\nmapping_file: mapping.yaml\ndelivery: { bulk: { mode: ${mode} } }\n`;
  return parseConfig(text, '/c/config.yaml', {});
}

/** A logger writing into a list of parsed lines. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().trim().split('\n')) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ pretty: false, destination }), lines };
}

describe('fitBulkToHeap', () => {
  it("lowers bulk.max_pending under the Kubernetes example's 192 MB heap and says so once, with both figures", () => {
    const { logger, lines } = capture();
    const config = configWith('auto');
    const fitted = fitBulkToHeap(config, 240 * MB, logger);
    expect(config.delivery.bulk.max_pending).toBe(1_000_000);
    expect(fitted.delivery.bulk.max_pending).toBeLessThan(200_000);
    expect(fitted.delivery.bulk.max_pending).toBeGreaterThan(10_000);
    expect(lines).toHaveLength(1);
    // pino's warn level.
    expect(lines[0]).toMatchObject({ level: 40, configured: 1_000_000, fitted: fitted.delivery.bulk.max_pending, heapLimitMB: 240 });
    expect(String(lines[0]?.msg)).toContain('--max-old-space-size');
  });

  it('leaves the config as it is when the heap carries the bound, or bulk is off', () => {
    const { logger, lines } = capture();
    const auto = configWith('auto');
    expect(fitBulkToHeap(auto, 4096 * MB, logger)).toBe(auto);
    const off = configWith('off');
    expect(fitBulkToHeap(off, 240 * MB, logger)).toBe(off);
    expect(lines).toEqual([]);
  });
});
