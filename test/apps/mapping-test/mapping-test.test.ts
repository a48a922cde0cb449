import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runMappingTests, type MappingTestOptions } from '../../../connector/apps/mapping-test/mapping-test.js';
import { testTempDir } from '../../support/test-run.js';
import { parseXml, type XmlElement } from '../../support/xml.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMAS = join(ROOT, 'schemas');

async function mappingTests(options: MappingTestOptions) {
  let out = '';
  let err = '';
  const code = await runMappingTests(options, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const MAPPING = `version: 1
mappings:
  - topic: loyalty.card.swiped
    schema: ${join(SCHEMAS, 'loyalty-card-swiped.avsc')}
    identity: { mbox3rdPartyId: card.customerId }
    attributes:
      lastStoreCity: store.city
      pointsBalance: pointsBalance
      lastSwipeChannel: { path: channel, transform: lowercase }
`;

const SWIPE = `{ eventId: 0b7e2f4a-5c1d-4e8f-9a2b-3c4d5e6f7a8b, swipedAt: "2026-01-05T08:00:00Z", card: { number: "6000", customerId: C-1, program: FAMILY },
      store: { id: S-1, name: Malmö & Co, city: Malmö, country: SE }, channel: POS, pointsDelta: 10, pointsBalance: 120 }`;

/** A folder with a config, the mapping above (or `mapping`) and `cases` as its only test file. */
async function project(cases: string, mapping = MAPPING): Promise<{ config: string; testFile: string }> {
  const dir = await testTempDir('mapping-test');
  await writeFile(join(dir, 'config.yaml'), 'kafka: { brokers: [127.0.0.1:9092] }\ntarget: { client_code: acme }\nmapping_file: mapping.yaml\n');
  await writeFile(join(dir, 'mapping.yaml'), mapping);
  await writeFile(join(dir, 'swipes.test.yaml'), cases);
  return { config: join(dir, 'config.yaml'), testFile: join(dir, 'swipes.test.yaml') };
}

const shown = (file: string) => relative(process.cwd(), file);

describe('test on the examples', () => {
  it('runs every case of examples/mapping.test.yaml through the pipeline, and all pass', async () => {
    const { code, out, err } = await mappingTests({ config: join(ROOT, 'examples/config.yaml') });
    expect(err).toBe('');
    expect(out).toMatch(/^8 cases: 8 passed, 0 failed$/m);
    expect(code).toBe(0);
  });
});

describe('the test command', () => {
  it('runs from the command line: JUnit on stdout, exit 0 for the examples', () => {
    const { status, stdout } = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), 'test', '--config', join(ROOT, 'examples/config.yaml'), '--reporter', 'junit'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(status).toBe(0);
    expect(parseXml(stdout).attributes).toMatchObject({ tests: '8', failures: '0' });
  }, 60_000);
});

describe('test with routes', () => {
  const swipeCase = (route: string) => `cases:
  - name: a realtime swipe
    topic: loyalty.card.swiped
    input: ${SWIPE}
    updates:
      - identity: { mbox3rdPartyId: C-1 }${route}
        attributes: { lastStoreCity: Malmö, pointsBalance: "120", lastSwipeChannel: pos }
`;
  const realtimeMapping = MAPPING.replace('    identity:', '    route: realtime\n    identity:');

  it('passes a case expecting route: realtime of a realtime mapping, and shows a route mismatch as a diff', async () => {
    expect((await mappingTests({ config: (await project(swipeCase('\n        route: realtime'), realtimeMapping)).config })).code).toBe(0);
    const single = await mappingTests({ config: (await project(swipeCase(''), realtimeMapping)).config });
    expect(single.code).toBe(1);
    expect(single.out).toContain(['    -   route: single', '    +   route: realtime'].join('\n'));
  });

  it('names an unknown route with its position', async () => {
    const { config, testFile } = await project(swipeCase('\n        route: fast'), realtimeMapping);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain(`${shown(testFile)}:8:16 route "fast" is not one of single, realtime`);
  });
});

describe('test on broken input', () => {
  it('names file:line:col of a YAML error in a case file, and fails', async () => {
    const { config, testFile } = await project(`cases:\n  - name: one\n    topic: loyalty.card.swiped\n    input: { a: 1\n    filtered: x\n`);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain(`${shown(testFile)}:5:`);
    expect(out).toMatch(/✗ .*swipes\.test\.yaml cannot be read/);
  });

  it('names a case file problem (unknown key, two expectations) with its position', async () => {
    const { config, testFile } = await project(`cases:\n  - name: one\n    topic: loyalty.card.swiped\n    inputs: {}\n    filtered: x\n    dead_letter: y\n`);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain(`${shown(testFile)}:4:5 unknown key inputs in a case`);
    expect(out).toContain(`${shown(testFile)}:6:5 a case expects exactly one of updates, filtered, dead_letter, not filtered and dead_letter`);
  });

  it('an event that does not fit its schema names the field and the type it expects', async () => {
    const { config } = await project(`cases:
  - name: a bad balance
    topic: loyalty.card.swiped
    input: { eventId: 0b7e2f4a-5c1d-4e8f-9a2b-3c4d5e6f7a8b, swipedAt: "2026-01-05T08:00:00Z", card: { number: "6000", customerId: C-1, program: FAMILY },
      store: { id: S-1, name: X, city: null, country: SE }, channel: FAX, pointsDelta: 10, pointsBalance: "lots" }
    filtered: never
`);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain('channel = "FAX" (expected an enum com.acme.loyalty.SwipeChannel)');
    expect(out).toContain('pointsBalance = "lots" (expected a long)');
    // A case can pin that failure: the event would be dead-lettered with that reason.
    const pinned = await project(`cases:
  - name: a bad balance is a dead letter
    topic: loyalty.card.swiped
    input: { eventId: 0b7e2f4a-5c1d-4e8f-9a2b-3c4d5e6f7a8b, swipedAt: "2026-01-05T08:00:00Z", card: { number: "6000", customerId: C-1, program: FAMILY },
      store: { id: S-1, name: X, city: null, country: SE }, channel: POS, pointsDelta: 10, pointsBalance: "lots" }
    dead_letter: pointsBalance = "lots" (expected a long)
`);
    expect((await mappingTests({ config: pinned.config })).code).toBe(0);
  });

  it('shows a mismatch as a diff of expected and actual attributes, with the case position', async () => {
    const { config, testFile } = await project(`cases:
  # the swipe
  - name: a swipe in Malmö
    topic: loyalty.card.swiped
    input: ${SWIPE}
    updates:
      - identity: { mbox3rdPartyId: C-1 }
        attributes:
          lastStoreCity: Malmo
          pointsBalance: 120
          lastSwipeChannel: pos
          tier: GOLD
`);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toBe(
      [
        shown(testFile),
        '  ✗ a swipe in Malmö',
        `    ${shown(testFile)}:3:5 the updates differ`,
        '      update 1: mbox3rdPartyId "C-1"',
        '    -   lastStoreCity: "Malmo"',
        '    +   lastStoreCity: "Malmö"',
        '    -   tier: "GOLD"',
        '',
        '1 case: 0 passed, 1 failed',
        '',
      ].join('\n'),
    );
  });

  it('shows a different outcome kind, a wrong identity and a missing update as diffs too', async () => {
    const { config } = await project(`cases:
  - name: expects a filter
    topic: loyalty.card.swiped
    input: ${SWIPE}
    filtered: channel
  - name: expects another profile and a second update
    topic: loyalty.card.swiped
    input: ${SWIPE}
    updates:
      - identity: { mbox3rdPartyId: C-2 }
        attributes: { lastStoreCity: Malmö, pointsBalance: 120, lastSwipeChannel: pos }
      - identity: { mboxPC: abc }
        attributes: { x: "1" }
`);
    const { out } = await mappingTests({ config });
    expect(out).toContain(['expected filtered, got 1 update', '    - filtered: channel', '    + updates: 1 update (mbox3rdPartyId "C-1")'].join('\n'));
    expect(out).toContain(
      [
        'expected 2 updates, got 1 update',
        '      update 1: mbox3rdPartyId "C-1"',
        '    -   identity: mbox3rdPartyId "C-2"',
        '    +   identity: mbox3rdPartyId "C-1"',
        '    - update 2: mboxPC "abc", route single',
        '    -   x: "1"',
      ].join('\n'),
    );
  });

  it('--update writes the outcome into cases without one, leaving the rest of the file as written', async () => {
    const original = `# Swipes: comments stay.
cases:
  - name: recorded   # a trailing comment
    topic: loyalty.card.swiped
    input: ${SWIPE}
  # between cases
  - name: kept as written
    topic: loyalty.card.swiped
    input: { eventId: 1b7e2f4a-5c1d-4e8f-9a2b-3c4d5e6f7a8b, swipedAt: 0, card: { number: "1", customerId: "a/b", program: FAMILY }, store: { id: S, name: N, city: null, country: SE }, channel: APP, pointsDelta: 0, pointsBalance: 0 }
    dead_letter: 'must not contain'   # quotes and comment stay
  - name: failing expectation is not overwritten
    topic: loyalty.card.swiped
    input: ${SWIPE}
    filtered: nope
  - name: a filtered one is recorded too
    topic: loyalty.card.swiped
    input: null`;
    const { config, testFile } = await project(original);
    const { code, out } = await mappingTests({ config, update: true });
    // The failing expectation still fails: --update never writes over one.
    expect(code).toBe(1);
    expect(out).toMatch(/^4 cases: 1 passed, 1 failed, 2 recorded$/m);
    const lines = original.split('\n');
    expect(await readFile(testFile, 'utf8')).toBe(
      [
        ...lines.slice(0, 6),
        '    updates:',
        '      - identity: { mbox3rdPartyId: C-1 }',
        '        attributes:',
        '          lastStoreCity: Malmö',
        '          pointsBalance: "120"',
        '          lastSwipeChannel: pos',
        ...lines.slice(6),
        '    filtered: tombstone (null value)',
        '',
      ].join('\n'),
    );
    // What was recorded now passes as an expectation.
    const again = await mappingTests({ config });
    expect(again.out).toMatch(/^4 cases: 3 passed, 1 failed$/m);
  });

  it('a case without expectation fails and shows what --update would record', async () => {
    const { config } = await project(`cases:\n  - name: new\n    topic: loyalty.card.swiped\n    input: ${SWIPE}\n`);
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain('no expectation yet');
    expect(out).toContain('    +   lastStoreCity: "Malmö"');
  });

  it('--reporter junit prints well-formed JUnit XML with one testcase per case and the failures counted', async () => {
    const { config } = await project(`cases:
  - name: passes <&>
    topic: loyalty.card.swiped
    input: ${SWIPE}
    updates:
      - identity: { mbox3rdPartyId: C-1 }
        attributes: { lastStoreCity: Malmö, pointsBalance: 120, lastSwipeChannel: pos }
  - name: fails "quoted"
    topic: loyalty.card.swiped
    input: ${SWIPE}
    filtered: x
  - name: a tombstone is filtered
    topic: loyalty.card.swiped
    input: null
    filtered: tombstone
`);
    const { code, out } = await mappingTests({ config, reporter: 'junit' });
    expect(code).toBe(1);
    const root = parseXml(out);
    expect(root).toMatchObject({ name: 'testsuites', attributes: { tests: '3', failures: '1' } });
    const suite = root.children[0] as XmlElement;
    expect(suite.attributes).toMatchObject({ tests: '3', failures: '1' });
    expect(suite.children.map((c) => c.attributes.name)).toEqual(['passes <&>', 'fails "quoted"', 'a tombstone is filtered']);
    const failure = suite.children[1]?.children[0] as XmlElement;
    expect(failure.name).toBe('failure');
    expect(failure.attributes.message).toBe('expected filtered, got 1 update');
    expect(failure.text).toContain('- filtered: x\n+ updates: 1 update (mbox3rdPartyId "C-1")');
  });

  it('--reporter tap prints a plan and one line per case', async () => {
    const { config } = await project(`cases:
  - name: one
    topic: loyalty.card.swiped
    input: ${SWIPE}
    filtered: x
`);
    const { out } = await mappingTests({ config, reporter: 'tap' });
    expect(out.split('\n').slice(0, 4)).toEqual(['TAP version 13', '1..1', expect.stringMatching(/^not ok 1 - .*swipes\.test\.yaml > one$/), '  ---']);
    expect(out).toContain('  diff: |\n    - filtered: x\n');
  });

  it('a case for a topic no mapping reads fails and names the mapped topics', async () => {
    const { config } = await project('cases:\n  - name: lost\n    topic: other.topic\n    input: {}\n    filtered: x\n');
    const { code, out } = await mappingTests({ config });
    expect(code).toBe(1);
    expect(out).toContain(':2:5 no mapping reads topic other.topic (mapped: loyalty.card.swiped)');
  });

  it('exits 2 when there is no test file beside the mapping', async () => {
    const { config, testFile } = await project('cases: []\n');
    await writeFile(testFile.replace('.test.yaml', '.yaml'), '');
    const { rm } = await import('node:fs/promises');
    await rm(testFile);
    const { code, err } = await mappingTests({ config });
    expect(code).toBe(2);
    expect(err).toMatch(/no test files \(\*\.test\.yaml\) beside .*mapping\.yaml/);
  });
});
