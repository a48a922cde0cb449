import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64 } from '../../connector/core/base64.js';

describe('base64', () => {
  it('writes the same text as Node for every length and byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      }),
    );
  });

  it('pads the last group', () => {
    expect([base64(new Uint8Array([])), base64(Uint8Array.of(0xff)), base64(Uint8Array.of(0xff, 0xee)), base64(Uint8Array.of(1, 2, 3))]).toEqual([
      '',
      '/w==',
      '/+4=',
      'AQID',
    ]);
  });
});
