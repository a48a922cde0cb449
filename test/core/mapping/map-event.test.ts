import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AvroDate, Decimal } from '../../../connector/core/values.js';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import type { CompiledMapping, MappingOutcome } from '../../../connector/core/mapping/index.js';
import { compile, problemsOf } from './support.js';

const CRM = 'crm.customer.updated';

/** A CRM event as the decoder produces it (values.ts contract), with overrides. */
function crmEvent(customer: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    eventId: '123e4567-e89b-12d3-a456-426614174000',
    eventType: 'UPDATED',
    updatedAt: new Date('2026-03-01T12:34:56.789Z'),
    source: 'crm',
    customer: {
      id: 'C-1',
      email: ' Ann@Example.COM ',
      firstName: 'Zoë',
      lastName: null,
      birthDate: new AvroDate(7000),
      tier: 'GOLD',
      contact: { phone: null, mobile: null, preferredChannel: 'EMAIL' },
      address: { street: null, city: 'Malmö', postalCode: '211 20', country: 'SE' },
      consent: { email: true, sms: false, personalization: true },
      lifetimeValue: new Decimal(123_456n, 2),
      ...customer,
    },
    preferences: { categories: ['shoes', 'bags'], language: null },
    customFields: { store: 'Malmö & Co', segment: 'seg-1' },
    ...top,
  };
}

function only(mapping: CompiledMapping, value: unknown, topic = CRM): MappingOutcome {
  const outcomes = mapping.mapEvent(topic, value);
  expect(outcomes).toHaveLength(1);
  return outcomes[0] as MappingOutcome;
}

function attributes(mapping: CompiledMapping, value: unknown): Record<string, string> {
  const outcome = only(mapping, value);
  if (outcome.kind !== 'update') throw new Error(`expected an update, got ${JSON.stringify(outcome)}`);
  return outcome.update.attributes;
}

function failure(mapping: CompiledMapping, value: unknown): string {
  const outcome = only(mapping, value);
  if (outcome.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(outcome)}`);
  expect(outcome.error).toBeInstanceOf(UnmappableEventError);
  expect(outcome.error.retryable).toBe(false);
  return outcome.error.message;
}

const header = (body: string, extra = '') => `version: 1
mappings:
  - topic: ${CRM}
    schema: crm.avsc
    identity: { mbox3rdPartyId: customer.id }${extra}
    attributes:
${body}`;

describe('attribute values', () => {
  it('maps every path form and transform of the syntax', async () => {
    const mapping = await compile(
      header(`      tier: customer.tier
      profile.email: { path: customer.email, transform: [trim, lowercase] }
      emailSha256: { path: customer.email, transform: [trim, lowercase, sha256] }
      city: customer.address.city
      firstCategory: "preferences.categories[0]"
      store: 'customFields["store"]'
      segment: customFields.segment
      updated: { path: updatedAt, transform: iso8601 }
      updatedMs: { path: updatedAt, transform: epoch_millis }
      updatedDay: { path: updatedAt, transform: date }
      birthDate: customer.birthDate
      ltv: customer.lifetimeValue
      ltvRounded: { path: customer.lifetimeValue, transform: { round: 0 } }
      consent: customer.consent.email
      consentJson: { path: customer.consent, transform: json }
      categories: { path: preferences.categories, transform: { join: "|" } }
      tierRank: { path: customer.tier, transform: { lookup: { BRONZE: 1, GOLD: 3 } } }
      short: { path: customer.firstName, transform: [uppercase, { truncate: 2 }] }
      source: { value: crm }
      version: { value: 2 }
      flag: { value: false }
`),
    );
    expect(attributes(mapping, crmEvent())).toEqual({
      tier: 'GOLD',
      email: 'ann@example.com',
      emailSha256: createHash('sha256').update('ann@example.com').digest('hex'),
      city: 'Malmö',
      firstCategory: 'shoes',
      store: 'Malmö & Co',
      segment: 'seg-1',
      updated: '2026-03-01T12:34:56.789Z',
      updatedMs: '1772368496789',
      updatedDay: '2026-03-01',
      birthDate: '1989-03-02',
      ltv: '1234.56',
      ltvRounded: '1235',
      consent: 'true',
      consentJson: '{"email":true,"sms":false,"personalization":true}',
      categories: 'shoes|bags',
      tierRank: '3',
      short: 'ZO',
      source: 'crm',
      version: '2',
      flag: 'false',
    });
  });

  it('omits missing, null and empty values, and uses the default instead when there is one', async () => {
    const mapping = await compile(
      header(`      tier: customer.tier
      lastName: customer.lastName
      street: { path: customer.address.street, default: unknown }
      city: { path: customer.address.city, default: unknown }
      language: { path: preferences.language, default: en }
      blank: { path: customer.firstName, transform: trim }
      blankWithDefault: { path: customer.firstName, transform: trim, default: "-" }
      unlisted: { path: customer.tier, transform: { lookup: { SILVER: s } }, default: other }
`),
    );
    expect(attributes(mapping, crmEvent({ firstName: '   ', address: null }))).toEqual({
      tier: 'GOLD',
      street: 'unknown',
      city: 'unknown',
      language: 'en',
      blankWithDefault: '-',
      unlisted: 'other',
    });
  });

  it('sees through unions: an optional record present or null', async () => {
    const mapping = await compile(header('      country: customer.address.country\n      tier: customer.tier\n'));
    expect(attributes(mapping, crmEvent())).toEqual({ country: 'SE', tier: 'GOLD' });
    expect(attributes(mapping, crmEvent({ address: null }))).toEqual({ tier: 'GOLD' });
  });

  it('an event with no attribute value at all is filtered, not sent empty', async () => {
    const mapping = await compile(header('      lastName: customer.lastName\n'));
    expect(only(mapping, crmEvent())).toEqual({ kind: 'filtered', reason: 'no attribute has a value' });
  });

  it('a transform that cannot read the value makes the event unmappable, naming the attribute', async () => {
    const mapping = await compile(header('      when: { path: customer.firstName, transform: iso8601 }\n'));
    expect(failure(mapping, crmEvent())).toBe(
      `mappings[0] (${CRM}): attribute when: iso8601 expects a timestamp, date, epoch milliseconds or ISO 8601 text, got string "Zoë"`,
    );
  });
});

describe('expand', () => {
  it('turns every key of a map into an attribute; explicit attributes win', async () => {
    const mapping = await compile(
      header('      cf_segment: { value: fixed }\n', '\n    expand: { path: customFields, prefix: profile.cf_, transform: uppercase }'),
    );
    expect(attributes(mapping, crmEvent())).toEqual({ cf_store: 'MALMÖ & CO', cf_segment: 'fixed' });
  });

  it('an expanded key that is not a valid attribute name makes the event unmappable', async () => {
    const mapping = await compile(header('      tier: customer.tier\n', '\n    expand: { path: customFields }'));
    expect(attributes(mapping, crmEvent())).toEqual({ store: 'Malmö & Co', segment: 'seg-1', tier: 'GOLD' });
    expect(failure(mapping, crmEvent({}, { customFields: { 'user.id': 'x' } }))).toMatch(
      /expand customFields: attribute name "user\.id" collides with Target's own "user" names/,
    );
    expect(failure(mapping, crmEvent({}, { customFields: { __proto__x: 'ok', ['__proto__']: 'x' } }))).toMatch(/__proto__/);
  });
});

describe('identity', () => {
  const mapping = compile(header('      tier: customer.tier\n'));

  it('becomes the update identity', async () => {
    expect(only(await mapping, crmEvent())).toEqual({
      kind: 'update',
      update: { identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { tier: 'GOLD' } },
    });
  });

  it('a missing or empty identity makes the event unmappable', async () => {
    expect(failure(await mapping, crmEvent({ id: null }))).toBe(`mappings[0] (${CRM}): identity mbox3rdPartyId (customer.id) is missing`);
    expect(failure(await mapping, crmEvent({ id: '' }))).toMatch(/mbox3rdPartyId is empty/);
  });

  it('an mbox3rdPartyId over 256 characters or with + or / makes the event unmappable', async () => {
    expect(attributes(await mapping, crmEvent({ id: 'x'.repeat(256) }))).toEqual({ tier: 'GOLD' });
    expect(failure(await mapping, crmEvent({ id: 'x'.repeat(257) }))).toMatch(/257 characters; Target allows at most 256/);
    expect(failure(await mapping, crmEvent({ id: 'a+b' }))).toMatch(/must not contain "\+" or "\/"/);
    expect(failure(await mapping, crmEvent({ id: 'a/b' }))).toMatch(/must not contain/);
  });

  it('can be transformed and can be an mboxPC, which has no 3rdPartyId character rules', async () => {
    const hashed = await compile(`version: 1
mappings:
  - topic: ${CRM}
    identity: { mbox3rdPartyId: { path: customer.email, transform: [trim, lowercase, sha256] } }
    attributes: { tier: customer.tier }
  - topic: ${CRM}
    identity: { mboxPC: customer.id }
    attributes: { tier: customer.tier }
`);
    const [byEmail, byPc] = hashed.mapEvent(CRM, crmEvent({ id: 'pc+1/2' }));
    expect(byEmail).toMatchObject({ update: { identity: { kind: 'mbox3rdPartyId', value: createHash('sha256').update('ann@example.com').digest('hex') } } });
    expect(byPc).toMatchObject({ update: { identity: { kind: 'mboxPC', value: 'pc+1/2' } } });
  });
});

describe('when', () => {
  async function reasons(conditions: string, value: unknown): Promise<MappingOutcome> {
    const mapping = await compile(header('      tier: customer.tier\n', `\n    when:\n${conditions}`));
    return only(mapping, value);
  }

  it('in: the value must be one of the list', async () => {
    const when = '      - { path: eventType, in: [CREATED, UPDATED] }\n';
    expect((await reasons(when, crmEvent())).kind).toBe('update');
    expect(await reasons(when, crmEvent({}, { eventType: 'DELETED' }))).toEqual({
      kind: 'filtered',
      reason: 'when: eventType is "DELETED", not in [CREATED, UPDATED]',
    });
    expect(await reasons(when, crmEvent({}, { eventType: null }))).toMatchObject({ reason: 'when: eventType is missing, not in [CREATED, UPDATED]' });
  });

  it('not_in: holds for other values and for a missing value', async () => {
    const when = '      - { path: customer.address.country, not_in: [DK, NO] }\n';
    expect((await reasons(when, crmEvent())).kind).toBe('update');
    expect((await reasons(when, crmEvent({ address: null }))).kind).toBe('update');
    expect(await reasons(when, crmEvent({ address: { country: 'DK' } }))).toMatchObject({
      reason: 'when: customer.address.country is "DK", excluded by not_in [DK, NO]',
    });
  });

  it('equals compares text forms, so booleans and numbers match decoded values', async () => {
    const consent = '      - { path: customer.consent.personalization, equals: true }\n';
    expect((await reasons(consent, crmEvent())).kind).toBe('update');
    expect(await reasons(consent, crmEvent({ consent: { personalization: false } }))).toMatchObject({
      reason: 'when: customer.consent.personalization is "false", not "true"',
    });
    const amount = '      - { path: customer.lifetimeValue, equals: "1234.56" }\n';
    expect((await reasons(amount, crmEvent())).kind).toBe('update');
  });

  it('exists: true needs a present value, exists: false an absent one; every condition must hold', async () => {
    const both = '      - { path: customer.email, exists: true }\n      - { path: customer.lastName, exists: false }\n';
    expect((await reasons(both, crmEvent())).kind).toBe('update');
    expect(await reasons(both, crmEvent({ email: null }))).toMatchObject({ reason: 'when: customer.email is missing' });
    expect(await reasons(both, crmEvent({ lastName: 'Öberg' }))).toMatchObject({ reason: 'when: customer.lastName is present' });
  });
});

describe('topics and several mappings', () => {
  it('gives one outcome per mapping of the topic, in file order, and none for other topics', async () => {
    const mapping = await compile(`version: 1
mappings:
  - topic: ${CRM}
    identity: { mbox3rdPartyId: customer.id }
    when: [{ path: eventType, in: [CREATED] }]
    attributes: { a: customer.tier }
  - topic: other
    identity: { mboxPC: id }
    attributes: { b: x }
  - topic: ${CRM}
    identity: { mbox3rdPartyId: customer.lastName }
    attributes: { c: customer.tier }
`);
    expect(mapping.topics).toEqual([CRM, 'other']);
    const outcomes = mapping.mapEvent(CRM, crmEvent());
    expect(outcomes.map((o) => o.kind)).toEqual(['filtered', 'error']);
    expect(mapping.mapEvent('unmapped', crmEvent())).toEqual([]);
  });
});

describe('long values', () => {
  const long = 'é'.repeat(300);
  const yaml = (policy = '') => header('      name: customer.firstName\n      tier: customer.tier\n', policy);

  it('truncates values over 256 characters by default', async () => {
    expect((await attributes(await compile(yaml()), crmEvent({ firstName: long }))).name).toBe('é'.repeat(256));
  });

  it('the config default applies unless the mapping sets long_values', async () => {
    const rejecting = await compile(yaml(), { longValues: 'reject' });
    expect(failure(rejecting, crmEvent({ firstName: long }))).toMatch(/attribute name has 300 characters; Target keeps at most 256 \(long_values: reject\)/);
    const allowing = await compile(yaml('\n    long_values: allow'), { longValues: 'reject' });
    expect(attributes(allowing, crmEvent({ firstName: long })).name).toBe(long);
  });

  it('an update names the attributes whose value was truncated, and only those', async () => {
    const mapping = await compile(
      header(
        `      name: customer.firstName
      tier: customer.tier
      cf_store: customFields.store
      note: { value: "${'n'.repeat(300)}" }
`,
      ).replace('    attributes:', '    expand: { path: customFields, prefix: cf_ }\n    attributes:'),
    );
    const event = crmEvent({ firstName: long }, { customFields: { store: 's'.repeat(300), segment: 'x'.repeat(300) } });
    const outcome = only(mapping, event);
    expect(outcome).toMatchObject({ kind: 'update', truncated: ['cf_store', 'cf_segment', 'name', 'note'] });
    // The explicit cf_store (itself cut) replaces the expanded one: named once.
    expect(outcome.kind === 'update' && outcome.update.attributes.cf_store).toBe('s'.repeat(256));
    const short = only(mapping, crmEvent({}, { customFields: { store: 's' } }));
    expect(short).toMatchObject({ kind: 'update', update: { attributes: { note: 'n'.repeat(256) } }, truncated: ['note'] });
    const fine = only(await compile(yaml()), crmEvent());
    expect(fine.kind === 'update' && 'truncated' in fine).toBe(false);
  });

  it('an explicit attribute that replaces a truncated expanded one is not named', async () => {
    const mapping = await compile(
      header('      cf_store: customer.tier\n').replace('    attributes:', '    expand: { path: customFields, prefix: cf_ }\n    attributes:'),
    );
    const outcome = only(mapping, crmEvent({}, { customFields: { store: 's'.repeat(300) } }));
    expect(outcome).toMatchObject({ kind: 'update', update: { attributes: { cf_store: 'GOLD' } } });
    expect('truncated' in outcome).toBe(false);
  });

  it('a rejected or allowed long value is not reported as truncated', async () => {
    const allowing = await compile(yaml('\n    long_values: allow'));
    expect('truncated' in only(allowing, crmEvent({ firstName: long }))).toBe(false);
  });

  it('counts characters, not UTF-16 units', async () => {
    const emoji = '😀'.repeat(200);
    expect(attributes(await compile(yaml(), { longValues: 'reject' }), crmEvent({ firstName: emoji })).name).toBe(emoji);
  });
});

describe('route', () => {
  it('is absent (single) by default and on route: single, and realtime on every update of a route: realtime entry', async () => {
    const body = '      tier: customer.tier\n';
    expect(only(await compile(header(body)), crmEvent())).toEqual({
      kind: 'update',
      update: { identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { tier: 'GOLD' } },
    });
    expect(only(await compile(header(body, '\n    route: single')), crmEvent())).toEqual({
      kind: 'update',
      update: { identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { tier: 'GOLD' } },
    });
    const realtime = await compile(header(body, '\n    route: realtime'));
    for (const tier of ['GOLD', 'SILVER']) {
      expect(only(realtime, crmEvent({ tier }))).toEqual({
        kind: 'update',
        update: { identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { tier }, route: 'realtime' },
      });
    }
  });

  it('any other value is refused at its line and column', async () => {
    expect(await problemsOf(header('      tier: customer.tier\n', '\n    route: fast'))).toEqual([
      expect.stringMatching(/^6:12 mappings\[0\]\.route: .*single, realtime/),
    ]);
  });
});
