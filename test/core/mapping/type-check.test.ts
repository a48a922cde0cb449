import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { compile, problemsOf } from './support.js';

const CRM_SCHEMA = 'schema com.acme.crm.CustomerUpdated';

/** A CRM mapping (reader schema crm.avsc) with the given attribute lines and optional `when`. */
const crm = (attributes: string, when = '') => `version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: customer.id }${when}
    attributes:
${attributes}`;

describe('transform types', () => {
  it('a numeric transform on a string, and after a transform that makes text, is a problem at that transform', async () => {
    expect(
      await problemsOf(
        crm(`      a: { path: customer.email, transform: { round: 2 } }
      b: { path: customer.lifetimeValue, transform: [string, { round: 0 }] }
      c: { path: customer.lifetimeValue, transform: { round: 0 } }
`),
      ),
    ).toEqual([
      '7:45 mappings[0].attributes.a.transform: round needs a number or decimal, but customer.email is a string',
      '8:62 mappings[0].attributes.b.transform[1]: round needs a number or decimal, but after string the value is text',
    ]);
  });

  it('time transforms take timestamps, dates, numbers and ISO text, nothing else', async () => {
    expect(
      await problemsOf(
        crm(`      ok1: { path: updatedAt, transform: iso8601 }
      ok2: { path: customer.birthDate, transform: epoch_millis }
      ok3: { path: customer.email, transform: date }
      ok4: { path: updatedAt, transform: [epoch_millis, iso8601] }
      bool: { path: customer.consent.email, transform: date }
      record: { path: customer.consent, transform: iso8601 }
      array: { path: preferences.categories, transform: epoch_millis }
      map: { path: customFields, transform: date }
      enum: { path: customer.tier, transform: iso8601 }
      bytes: { path: customer.lifetimeValue, transform: date }
`),
      ),
    ).toEqual([
      '11:56 mappings[0].attributes.bool.transform: date needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but customer.consent.email is a boolean',
      '12:52 mappings[0].attributes.record.transform: iso8601 needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but customer.consent is a record com.acme.crm.Consent',
      '13:57 mappings[0].attributes.array.transform: epoch_millis needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but preferences.categories is an array',
      '14:45 mappings[0].attributes.map.transform: date needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but customFields is a map',
      '15:47 mappings[0].attributes.enum.transform: iso8601 needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but customer.tier is an enum com.acme.crm.LoyaltyTier',
      '16:57 mappings[0].attributes.bytes.transform: date needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but customer.lifetimeValue is a decimal (bytes)',
    ]);
  });

  it('text transforms refuse records, arrays and maps; join needs an array', async () => {
    expect(
      await problemsOf(
        crm(`      a: { path: customer.consent, transform: sha256 }
      b: { path: customer.consent, transform: [json, sha256] }
      c: { path: preferences.categories, transform: [lowercase] }
      d: { path: preferences.categories, transform: [{ join: "," }, lowercase] }
      e: { path: customer.email, transform: { join: "," } }
`),
      ),
    ).toEqual([
      '7:47 mappings[0].attributes.a.transform: sha256 needs a single value, not a record, array or map (use json or join first), but customer.consent is a record com.acme.crm.Consent',
      '9:54 mappings[0].attributes.c.transform[0]: lowercase needs a single value, not a record, array or map (use json or join first), but preferences.categories is an array',
      '11:45 mappings[0].attributes.e.transform: join needs an array, but customer.email is a string',
    ]);
  });

  it('a union is accepted when one of its branches is', async () => {
    const mapping = await compile(`version: 1
mappings:
  - topic: t
    identity: { mboxPC: id }
    attributes:
      n: { path: n, transform: { round: 1 } }
`);
    const type = (branches: unknown[]) =>
      parseAvroSchema({
        type: 'record',
        name: 'R',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'n', type: branches },
        ],
      });
    expect(mapping.checkPaths('t', type(['null', 'string', 'double']))).toEqual([]);
    expect(mapping.checkPaths('t', type(['null', 'string', 'boolean'])).map((p) => p.message)).toEqual([
      'round needs a number or decimal, but n is a string or a boolean',
    ]);
  });

  it('expand transforms apply to the map values', async () => {
    expect(
      await problemsOf(`version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: customer.id }
    expand: { path: customFields, transform: [trim, { round: 0 }] }
`),
    ).toEqual(['6:53 mappings[0].expand.transform[1]: round needs a number or decimal, but after trim the value is text']);
  });

  it('identity transforms are checked too', async () => {
    expect(
      await problemsOf(`version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: { path: customer.consent, transform: lowercase } }
    attributes: { tier: customer.tier }
`),
    ).toEqual([
      '5:70 mappings[0].identity.mbox3rdPartyId.transform: lowercase needs a single value, not a record, array or map (use json or join first), but customer.consent is a record com.acme.crm.Consent',
    ]);
  });
});

describe('condition and lookup values', () => {
  it('values compared with an enum must be its symbols; the message lists them and suggests the nearest', async () => {
    expect(
      await problemsOf(
        crm(
          `      tier: customer.tier
`,
          `
    when:
      - { path: eventType, in: [CREATED, UPDATD] }
      - { path: customer.tier, not_in: [BRONZE, 7] }
      - { path: customer.contact.preferredChannel, equals: MAIL }`,
        ),
      ),
    ).toEqual([
      '7:42 mappings[0].when[0].in[1]: eventType is an enum com.acme.crm.CustomerEventType, which has no symbol "UPDATD" (did you mean "UPDATED"?); its symbols are CREATED, UPDATED, DELETED, MERGED',
      '8:49 mappings[0].when[1].not_in[1]: customer.tier is an enum com.acme.crm.LoyaltyTier, which has no symbol "7"; its symbols are BRONZE, SILVER, GOLD, PLATINUM',
      '9:60 mappings[0].when[2].equals: customer.contact.preferredChannel is an enum com.acme.crm.Channel, which has no symbol "MAIL" (did you mean "EMAIL"?); its symbols are EMAIL, SMS, POST, NONE',
    ]);
  });

  it('a boolean only ever equals true or false', async () => {
    expect(
      await problemsOf(
        crm(
          `      tier: customer.tier
`,
          `
    when:
      - { path: customer.consent.email, equals: yes }
      - { path: customer.consent.sms, in: [true, "false"] }`,
        ),
      ),
    ).toEqual(['7:49 mappings[0].when[0].equals: customer.consent.email is a boolean, so "yes" never matches (compare with true or false)']);
  });

  it('lookup keys on an enum must be its symbols', async () => {
    expect(
      await problemsOf(
        crm(`      rank: { path: customer.tier, transform: { lookup: { BRONZE: 1, GLOD: 3 } } }
      free: { path: customer.email, transform: { lookup: { GLOD: 3 } } }
`),
      ),
    ).toEqual([
      '7:70 mappings[0].attributes.rank.transform.lookup.GLOD: lookup key "GLOD" can never match: customer.tier is an enum com.acme.crm.LoyaltyTier, which has no symbol "GLOD" (did you mean "GOLD"?); its symbols are BRONZE, SILVER, GOLD, PLATINUM',
    ]);
  });
});

describe('one report', () => {
  it('a bad path is reported even when the same attribute, condition or identity also has a shape problem', async () => {
    expect(
      await problemsOf(
        crm(
          `      email: { path: customer.emial, transform: [trim, lowercas] }
      city: { path: customer.adress.city, transfrom: trim }
`,
          `
    when:
      - { path: eventTyp, in: [CREATED], equals: UPDATED }`,
        ).replace('identity: { mbox3rdPartyId: customer.id }', 'identity: { mbox3rdPartyId: { path: customer.di, transform: trimm } }'),
      ),
    ).toEqual([
      `5:41 mappings[0].identity.mbox3rdPartyId.path: path customer.di is not in ${CRM_SCHEMA}: record com.acme.crm.Customer has no field "di" (did you mean "id"?)`,
      '5:65 mappings[0].identity.mbox3rdPartyId.transform: unknown transform "trimm" (did you mean "trim"?)',
      '7:9 mappings[0].when[0]: condition takes only one of in, not_in, equals, exists, found in and equals',
      `7:17 mappings[0].when[0].path: path eventTyp is not in ${CRM_SCHEMA}: record com.acme.crm.CustomerUpdated has no field "eventTyp" (did you mean "eventType"?)`,
      `9:22 mappings[0].attributes.email.path: path customer.emial is not in ${CRM_SCHEMA}: record com.acme.crm.Customer has no field "emial" (did you mean "email"?)`,
      '9:56 mappings[0].attributes.email.transform[1]: unknown transform "lowercas" (did you mean "lowercase"?)',
      `10:21 mappings[0].attributes.city.path: path customer.adress.city is not in ${CRM_SCHEMA}: record com.acme.crm.Customer has no field "adress" (did you mean "address"?)`,
      '10:43 mappings[0].attributes.city.transfrom: unknown key "transfrom" in attribute (did you mean "transform"?)',
    ]);
  });
});

describe('check against a registry schema', () => {
  it('checkPaths type-checks transforms and condition values against the writer schema as well', async () => {
    const mapping = await compile(`version: 1
mappings:
  - topic: t
    identity: { mbox3rdPartyId: id }
    when: [{ path: kind, in: [A, C] }]
    attributes:
      total: { path: total, transform: { round: 2 } }
`);
    const writer = parseAvroSchema({
      type: 'record',
      name: 'W',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
        { name: 'total', type: 'string' },
      ],
    });
    expect(mapping.checkPaths('t', writer).map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`)).toEqual([
      '5:34 mappings[0].when[0].in[1]: kind is an enum Kind, which has no symbol "C"; its symbols are A, B',
      '7:40 mappings[0].attributes.total.transform: round needs a number or decimal, but total is a string',
    ]);
  });
});
