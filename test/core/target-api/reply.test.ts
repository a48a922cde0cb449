import { describe, expect, it } from 'vitest';
import { classifyReply, parseRetryAfter } from '../../../connector/core/target-api/reply.js';

const NOW = Date.parse('2026-11-28T10:00:00Z');

describe('classifyReply', () => {
  it('accepts 2xx starting with true', () => {
    expect(classifyReply(200, undefined, 'trueRequest successfully submitted', NOW)).toBeUndefined();
  });

  it.each([
    [200, 'false', false],
    [400, 'bad', false],
    [404, '', false],
    [413, 'too large', false],
    [408, '', true],
    [429, '', true],
    [500, '', true],
    [503, '', true],
  ])('status %i body %j → retryable %s', (status, body, retryable) => {
    const err = classifyReply(status, undefined, body, NOW);
    expect(err).toBeDefined();
    expect(err?.retryable).toBe(retryable);
    expect(err?.status).toBe(status);
  });

  it('carries Retry-After only on retryable replies', () => {
    expect(classifyReply(429, '3', '', NOW)?.retryAfterMs).toBe(3000);
    expect(classifyReply(400, '3', '', NOW)?.retryAfterMs).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = NOW;
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
