/** Untyped access to parsed deployment files: each accessor names the place it looked when the file has something else. */
import { describe, expect, it } from 'vitest';
import { asList, asMapping, asText } from './manifest.js';

describe('manifest accessors', () => {
  it('asMapping passes mappings and names what it wanted otherwise', () => {
    expect(asMapping({ a: 1 }, 'spec')).toEqual({ a: 1 });
    for (const bad of [null, undefined, [], 'x', 3]) expect(() => asMapping(bad, 'services.kafka')).toThrow('services.kafka: expected a mapping');
  });

  it('asList passes lists only', () => {
    expect(asList([1, 'a'], 'ports')).toEqual([1, 'a']);
    for (const bad of [{}, 'a,b', null]) expect(() => asList(bad, 'ports')).toThrow('ports: expected a list');
  });

  it('asText passes strings and numbers (as YAML reads `port: 8080`), nothing else', () => {
    expect(asText('kafka', 'host')).toBe('kafka');
    expect(asText(8080, 'port')).toBe('8080');
    for (const bad of [true, null, undefined, {}, ['a']]) expect(() => asText(bad, 'KAFKA_NODE_ID')).toThrow('KAFKA_NODE_ID: expected a string');
  });
});
