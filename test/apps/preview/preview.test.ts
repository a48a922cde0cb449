import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runPreview, type PreviewOptions } from '../../../connector/apps/preview/preview.js';
import { registerPreview } from '../../../connector/cli/commands/preview.js';
import { generateSampleEvents, SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { loadMapping } from '../../../connector/adapters/mapping-file/load.js';
import { framed, startFakeRegistry } from '../../support/fake-registry.js';
import { testTempDir } from '../../support/test-run.js';
import { parseBatchFile } from '../../../connector/tools/sandbox/batch-file.js';

const example = (path: string) => fileURLToPath(new URL(`../../../examples/${path}`, import.meta.url));
const CONFIG = example('config.yaml');
const ENDPOINT = 'http://127.0.0.1:8080/m2/acme/profile/update';

async function preview(options: Partial<PreviewOptions> & { input: string }) {
  let out = '';
  let err = '';
  const code = await runPreview({ config: CONFIG, ...options }, { out: (t) => (out += t), err: (t) => (err += t) });
  const lines = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, err };
}

async function tempFile(name: string, content: string | Buffer): Promise<string> {
  const dir = await testTempDir('preview');
  await writeFile(join(dir, name), content);
  return join(dir, name);
}

describe('preview on the examples', () => {
  it('prints the exact request of each CRM event and skips the filtered ones', async () => {
    const { code, lines, err } = await preview({ input: example('events/crm-customer-updated.jsonl') });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(lines).toContainEqual({
      method: 'GET',
      url:
        `${ENDPOINT}?mbox3rdPartyId=C-000042&profile.cf_favouriteStore=Malm%C3%B6%20%26%20Co` +
        '&profile.cf_note=50%25%20%3D%20half%2C%20a%2Bb%2Fc%20%231&profile.loyaltyTier=PLATINUM&profile.firstName=%C3%85sa' +
        '&profile.emailSha256=a722b533e1e9c3b30e49a44a63e5f301390c370202bfd577c5003e36cb413e56&profile.tierRank=4' +
        '&profile.preferredChannel=email&profile.city=Malm%C3%B6&profile.country=SE&profile.birthDate=1985-12-24' +
        '&profile.lifetimeValue=98765&profile.consentEmail=true&profile.consentPersonalization=true' +
        '&profile.categories=home%2Ckids&profile.language=sv&profile.lastUpdated=2026-01-05T08%3A00%3A15.000Z&profile.source=crm',
    });
    expect(lines).toContainEqual({ event: 8, skipped: 'when: eventType is "DELETED", not in [CREATED, UPDATED]' });
    expect(lines.filter((l) => l.method === 'GET')).toHaveLength(7);
  });

  it('every example file previews without errors', async () => {
    for (const file of ['loyalty-card-swiped', 'transaction-completed']) {
      const { code, lines } = await preview({ input: example(`events/${file}.jsonl`) });
      expect(code).toBe(0);
      expect(lines.every((l) => l.error === undefined)).toBe(true);
      expect(lines.some((l) => typeof l.url === 'string' && l.url.startsWith(`${ENDPOINT}?mbox3rdPartyId=C-`))).toBe(true);
    }
    const { lines } = await preview({ input: example('events/transaction-completed.jsonl') });
    expect(lines).toContainEqual({ event: 2, skipped: 'when: customerId is missing' });
  });
});

describe('preview of bad input', () => {
  it('prints one error per event that would be dead-lettered and exits 1', async () => {
    const good = { topic: SAMPLE_TOPICS.loyalty, value: generateSampleEvents({ count: 1, topics: [SAMPLE_TOPICS.loyalty] })[0]?.value };
    const badEnum = { topic: SAMPLE_TOPICS.loyalty, value: { ...good.value, channel: 'FAX' } };
    const badIdentity = { topic: SAMPLE_TOPICS.loyalty, value: { ...good.value, card: { number: '1', customerId: 'a/b', program: 'STANDARD' } } };
    const input = await tempFile(
      'events.jsonl',
      [good, '{not json', { topic: 'nobody.maps.this', value: {} }, badEnum, badIdentity, { value: {} }]
        .map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))
        .join('\n'),
    );
    const { code, lines } = await preview({ input });
    expect(code).toBe(1);
    expect(lines[0]).toMatchObject({ method: 'GET' });
    expect(lines.slice(1)).toEqual([
      { event: 2, error: expect.stringMatching(/^not JSON/) as string },
      {
        event: 3,
        error: 'cannot decode nobody.maps.this[0]@3: topic nobody.maps.this has no schema: the mapping names none and no schema_registry is configured',
      },
      {
        event: 4,
        error:
          'cannot decode loyalty.card.swiped[0]@4: does not match schema com.acme.loyalty.LoyaltyCardSwiped: invalid channel = "FAX" (expected an enum com.acme.loyalty.SwipeChannel)',
      },
      { event: 5, error: 'mappings[1] (loyalty.card.swiped): identity mbox3rdPartyId (card.customerId): mbox3rdPartyId must not contain "+" or "/"' },
      { event: 6, error: 'expected {"topic": "...", "value": {...}}' },
    ]);
  });

  it('an invalid config or unreadable input exits 2 with the reason on stderr', async () => {
    const config = await tempFile('config.yaml', 'kafka: { brokers: [] }\n');
    const bad = await preview({ config, input: example('events/crm-customer-updated.jsonl') });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(config);
    const missing = await preview({ input: '/nonexistent/events.jsonl' });
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read input: .*ENOENT/);
    const noTopic = await preview({ input: example('events/crm-customer-updated.jsonl'), avro: true });
    expect(noTopic.code).toBe(2);
  });
});

describe('preview of Avro input', () => {
  const mappingReady = loadMapping(example('mapping.yaml'));
  const [crm] = generateSampleEvents({ count: 1, seed: 5, topics: [SAMPLE_TOPICS.crm] });

  it('decodes one raw message value exactly as run does', async () => {
    const type = (await mappingReady).readerSchema(SAMPLE_TOPICS.crm);
    const input = await tempFile('message.avro', type?.toBuffer({ ...crm?.value, eventType: 'CREATED' }) as Buffer);
    const { code, lines } = await preview({ input, avro: true, topic: SAMPLE_TOPICS.crm });
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.url).toMatch(new RegExp(`^${ENDPOINT}\\?mbox3rdPartyId=${crm?.key}&`));
  });

  it('reads every record of an Avro object container file', async () => {
    const type = (await mappingReady).readerSchema(SAMPLE_TOPICS.loyalty);
    const events = generateSampleEvents({ count: 3, seed: 9, topics: [SAMPLE_TOPICS.loyalty] });
    const encoder = new avro.streams.BlockEncoder(type as avro.Type);
    const chunks: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    for (const event of events) encoder.write(event.value);
    encoder.end();
    await once(encoder, 'end');
    const path = await tempFile('swipes.avro', Buffer.concat(chunks));
    const { code, lines } = await preview({ input: path, avro: true, topic: SAMPLE_TOPICS.loyalty });
    expect(code).toBe(0);
    expect(lines.map((l) => new URL(l.url as string).searchParams.get('mbox3rdPartyId'))).toEqual(events.map((e) => e.key));
  });

  it("with a registry: framed messages, and JSON events encoded with the subject's latest schema", async () => {
    const registry = await startFakeRegistry();
    try {
      const schema = {
        type: 'record',
        name: 'Ping',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'n', type: 'int' },
        ],
      };
      registry.register('ping-value', 7, schema);
      const dir = await testTempDir('preview');
      await writeFile(join(dir, 'mapping.yaml'), 'version: 1\nmappings:\n  - { topic: ping, identity: { mboxPC: id }, attributes: { n: n } }\n');
      const config = join(dir, 'config.yaml');
      await writeFile(
        config,
        `kafka: { brokers: [127.0.0.1:9092] }\nschema_registry: { url: "${registry.url}" }\ntarget: { client_code: acme, base_url: "http://127.0.0.1:8080" }\nmapping_file: mapping.yaml\n`,
      );
      const json = await tempFile('ping.jsonl', '{"topic": "ping", "value": {"id": "pc-1", "n": 3}}\n');
      expect((await preview({ config, input: json })).lines).toEqual([{ method: 'GET', url: `${ENDPOINT}?mboxPC=pc-1&profile.n=3` }]);
      const message = await tempFile('ping.bin', framed(7, avro.Type.forSchema(schema as avro.Schema).toBuffer({ id: 'pc-2', n: 4 })));
      expect((await preview({ config, input: message, avro: true, topic: 'ping' })).lines).toEqual([
        { method: 'GET', url: `${ENDPOINT}?mboxPC=pc-2&profile.n=4` },
      ]);
    } finally {
      await registry.close();
    }
  });
});

describe('the preview subcommand', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('parses its options and prints JSON lines on stdout', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const program = new Command().exitOverride();
    registerPreview(program);
    await program.parseAsync(['preview', '--config', CONFIG, '--input', example('events/loyalty-card-swiped.jsonl')], { from: 'user' });
    expect(process.exitCode).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(6);
    expect(JSON.parse(out.split('\n')[0] as string)).toMatchObject({ method: 'GET' });
  });
});

describe('preview --bulk', () => {
  it('prints the batch file the thirdPartyId updates would make, one row per profile merged in input order, Target-parseable', async () => {
    let out = '';
    let err = '';
    const code = await runPreview(
      { config: CONFIG, input: example('events/crm-customer-updated.jsonl'), bulk: true },
      { out: (t) => (out += t), err: (t) => (err += t) },
    );
    expect(code).toBe(0);
    const bytes = Buffer.from(out);
    const parsed = parseBatchFile({ size: bytes.length, bytes }, { maxRows: 500_000, maxBytes: 50 * 1024 * 1024 });
    if (!parsed.ok) throw new Error(parsed.message);
    const { ids, names, cells } = parsed.file;
    expect(new Set(ids).size).toBe(ids.length);
    const rows = new Map(
      ids.map((id, i) => [id, Object.fromEntries(names.flatMap((name, j) => (cells[i * names.length + j] ? [[name, cells[i * names.length + j]]] : [])))]),
    );
    const single = await preview({ input: example('events/crm-customer-updated.jsonl') });
    // The same attributes as the single requests, merged per profile (later event wins).
    const merged = new Map<string, Record<string, string>>();
    for (const line of single.lines.filter((l) => l.method === 'GET')) {
      const params = new URL(line.url as string).searchParams;
      const id = params.get('mbox3rdPartyId') as string;
      const attributes = Object.fromEntries([...params].filter(([k]) => k.startsWith('profile.')).map(([k, v]) => [k.slice(8), v]));
      merged.set(id, { ...merged.get(id), ...attributes });
    }
    expect(rows).toEqual(merged);
    // The skipped event is still reported, on stderr.
    expect(err).toContain('"skipped"');
  });
});

describe('preview of a route: realtime mapping', () => {
  it('prints the exact Delivery API call of each realtime update, and single requests as before for the other mappings', async () => {
    const { readFile } = await import('node:fs/promises');
    const schemas = fileURLToPath(new URL('../../../schemas/', import.meta.url));
    const mapping = (await readFile(example('mapping.yaml'), 'utf8'))
      .replaceAll('../schemas/', schemas)
      .replace(`loyalty-card-swiped.avsc`, 'loyalty-card-swiped.avsc\n    route: realtime');
    const mappingFile = await tempFile('mapping.yaml', mapping);
    const config = await tempFile(
      'config.yaml',
      `kafka: { brokers: 127.0.0.1:9092 }\ntarget: { client_code: acme, base_url: "http://127.0.0.1:8080" }\nmapping_file: ${JSON.stringify(mappingFile)}\n`,
    );
    const swipes = (await readFile(example('events/loyalty-card-swiped.jsonl'), 'utf8')).split('\n')[0] as string;
    const crm = (await readFile(example('events/crm-customer-updated.jsonl'), 'utf8')).split('\n')[0] as string;
    const input = await tempFile('mixed.jsonl', `${swipes}\n${crm}\n`);
    const { code, lines, err } = await preview({ config, input });
    expect(err).toBe('');
    expect(code).toBe(0);
    const { deliverySessionId } = await import('../../../connector/core/target-api/delivery-request.js');
    expect(lines[0]).toEqual({
      route: 'realtime',
      method: 'POST',
      url: `http://127.0.0.1:8080/rest/v1/delivery?client=acme&sessionId=${deliverySessionId({ kind: 'mbox3rdPartyId', value: 'C-000007' })}`,
      contentType: 'application/json',
      body:
        '{"id":{"thirdPartyId":"C-000007"},"context":{"channel":"web"},"execute":{"mboxes":[{"index":0,"name":"target-profile-sink","profileParameters":' +
        '{"loyaltyProgram":"family","lastStoreId":"S-004","lastStoreName":"Zürich HB","lastStoreCity":"Zürich","pointsBalance":"98727","lastSwipeChannel":"store","lastSwipeAt":"1767600003323"}}]}}',
    });
    expect(lines.slice(1).map((l) => [l.method, l.route])).toEqual([['GET', undefined]]);
  });
});
