/** docker-compose.yml as Compose reads it: substitution, merge keys, durations, ports and mounts. */
import { describe, expect, it } from 'vitest';
import { bindMounts, durationMs, interpolate, publishedPorts, readCompose, volumeMounts } from './compose.js';

describe('interpolate', () => {
  it('substitutes ${NAME} and $NAME, empty when unset', () => {
    expect(interpolate('${HOST}:$PORT/x', { HOST: 'kafka', PORT: '9092' })).toBe('kafka:9092/x');
    expect(interpolate('[${HOST}][$PORT]')).toBe('[][]');
  });

  it('applies :- to unset and empty variables, - to unset ones only', () => {
    expect(interpolate('${P:-9092}', {})).toBe('9092');
    expect(interpolate('${P:-9092}', { P: '' })).toBe('9092');
    expect(interpolate('${P:-9092}', { P: '29092' })).toBe('29092');
    expect(interpolate('${P-9092}', { P: '' })).toBe('');
    expect(interpolate('${P-9092}', {})).toBe('9092');
  });

  it('applies :+ and + only when the variable is there', () => {
    expect(interpolate('${DEBUG:+--verbose}', { DEBUG: '1' })).toBe('--verbose');
    expect(interpolate('${DEBUG:+--verbose}', { DEBUG: '' })).toBe('');
    expect(interpolate('${DEBUG+--verbose}', { DEBUG: '' })).toBe('--verbose');
    expect(interpolate('${DEBUG+--verbose}', {})).toBe('');
  });

  it('fails on a missing required variable with its message', () => {
    expect(() => interpolate('${TOKEN:?set TOKEN first}', { TOKEN: '' })).toThrow('${TOKEN:?set TOKEN first}: set TOKEN first');
    expect(() => interpolate('${TOKEN?}', {})).toThrow('TOKEN is required');
    expect(interpolate('${TOKEN?}', { TOKEN: '' })).toBe('');
  });

  it('turns $$ into a literal $ that is not substituted again', () => {
    expect(interpolate('for t in $$TOPICS; do echo "$${t}"; done', { TOPICS: 'no', t: 'no' })).toBe('for t in $TOPICS; do echo "${t}"; done');
  });

  it('walks lists and mappings, leaving keys and non-strings alone', () => {
    expect(interpolate({ '${K}': ['${V}', 3, true, null], n: { deep: '${V:-d}' } }, { K: 'key', V: 'v' })).toEqual({
      '${K}': ['v', 3, true, null],
      n: { deep: 'v' },
    });
  });
});

describe('readCompose', () => {
  it('applies << merge keys before substituting', () => {
    const compose = readCompose(['x-image: &image', '  image: app:${TAG:-local}', 'services:', '  a:', '    <<: *image', '    command: [run]'].join('\n'));
    expect(compose.services).toEqual({ a: { image: 'app:local', command: ['run'] } });
  });

  it('rejects a file that is not a mapping', () => {
    expect(() => readCompose('- a\n- b')).toThrow('compose file: expected a mapping');
  });
});

describe('durationMs', () => {
  it('reads Go durations', () => {
    expect(durationMs('45s')).toBe(45_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('1.5h')).toBe(5_400_000);
    expect(durationMs('2h0m1s500ms')).toBe(7_201_500);
    expect(durationMs('250us')).toBeCloseTo(0.25);
    expect(durationMs('0')).toBe(0);
  });

  it('rejects what Go rejects instead of reading part of it', () => {
    for (const bad of ['45', '45 seconds', '45seconds', '1d', 's', '']) expect(() => durationMs(bad), bad).toThrow('not a duration');
  });
});

describe('publishedPorts', () => {
  it('maps host to container ports from the short syntax, with host IPs, IPv6 and protocols', () => {
    const ports = publishedPorts({ ports: ['8080:80', '127.0.0.1:9000:90', '[::1]:6001:6002', '7000:7001/udp'] });
    expect([...ports]).toEqual([
      [8080, 80],
      [9000, 90],
      [6001, 6002],
      [7000, 7001],
    ]);
  });

  it('expands matching ranges and skips ports Docker picks itself', () => {
    const ports = publishedPorts({ ports: ['5000-5001:6000-6001', '3000', '127.0.0.1::4000', '7000-7005:80'] });
    expect([...ports]).toEqual([
      [5000, 6000],
      [5001, 6001],
    ]);
  });

  it('reads the long syntax, with the published port as a number or a string', () => {
    const ports = publishedPorts({ ports: [{ target: 443, published: '8443' }, { target: 9464, published: 9464 }, { target: 22 }] });
    expect([...ports]).toEqual([
      [8443, 443],
      [9464, 9464],
    ]);
  });

  it('is empty for a service that publishes nothing', () => {
    expect(publishedPorts({}).size).toBe(0);
  });
});

describe('volumeMounts and bindMounts', () => {
  const service = {
    volumes: [
      './deploy/config.yaml:/config/config.yaml:ro',
      'kafka-data:/var/lib/kafka/data',
      '/srv/shared:/shared',
      '~/cache:/cache',
      '/anonymous',
      { type: 'bind', source: '../examples', target: '/app/examples', read_only: true },
    ],
  };

  it('reads short (with mode) and long syntax, and a lone path as an anonymous volume', () => {
    expect(volumeMounts(service)).toEqual([
      { source: './deploy/config.yaml', target: '/config/config.yaml' },
      { source: 'kafka-data', target: '/var/lib/kafka/data' },
      { source: '/srv/shared', target: '/shared' },
      { source: '~/cache', target: '/cache' },
      { source: '', target: '/anonymous' },
      { source: '../examples', target: '/app/examples' },
    ]);
  });

  it('keeps bind mounts only, resolved against the project folder and home', () => {
    expect(bindMounts(volumeMounts(service), { project: '/opt/acme/project', home: '/home/dev' })).toEqual([
      { target: '/config/config.yaml', host: '/opt/acme/project/deploy/config.yaml' },
      { target: '/shared', host: '/srv/shared' },
      { target: '/cache', host: '/home/dev/cache' },
      { target: '/app/examples', host: '/opt/acme/examples' },
    ]);
  });

  it('names the entry whose long syntax lacks a target', () => {
    expect(() => volumeMounts({ volumes: [{ source: './x' }] })).toThrow('volumes[0].target: expected a string');
  });
});
