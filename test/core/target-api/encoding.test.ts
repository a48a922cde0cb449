import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import { encodeComponent, encodedLength } from '../../../connector/core/target-api/encoding.js';

/** Any UTF-16 text, lone surrogates included, with the characters that matter more often. */
const text = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0x41, 0x2c, 0x25, 0x20, 0xe5, 0xd83d, 0xde00, 0xdc00)), { maxLength: 12 })
  .map((codes) => String.fromCharCode(...codes));

describe('encodedLength', () => {
  it('is the length encodeComponent returns, and refuses what it refuses, for any UTF-16 text', () => {
    fc.assert(
      fc.property(text, (t) => {
        let encoded: string | undefined;
        try {
          encoded = encodeComponent(t, 'a');
        } catch (error) {
          expect(error).toBeInstanceOf(UnmappableEventError);
        }
        if (encoded === undefined) expect(() => encodedLength(t, 'a')).toThrow(UnmappableEventError);
        else expect(encodedLength(t, 'a')).toBe(encoded.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts Swedish, emoji and reserved characters as their UTF-8 percent-escapes', () => {
    expect(encodedLength('Malmö, Skåne & Co 😀', 'city')).toBe(encodeURIComponent('Malmö, Skåne & Co 😀').length);
    expect(encodedLength("A-z_0.!~*'()", 'code')).toBe(12);
  });
});
