/** Validates the JSON body of `POST /_sandbox/profiles` (one profile or an array of them). */
import { Ajv } from 'ajv';
import type { ProfileUpdate } from '../../core/profile.js';
import { identityProblem } from './update-request.js';

interface SeedEntry {
  mbox3rdPartyId?: string;
  mboxPC?: string;
  attributes?: Record<string, string>;
}

const validateSeeds = new Ajv({ allErrors: true }).compile<SeedEntry[]>({
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mbox3rdPartyId: { type: 'string' },
      mboxPC: { type: 'string' },
      attributes: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
});

/** The profiles to seed, or every problem found (schema and identity rules). */
export function parseProfileSeeds(json: unknown): { ok: true; seeds: ProfileUpdate[] } | { ok: false; problems: string[] } {
  const entries = Array.isArray(json) ? json : [json];
  if (!validateSeeds(entries)) {
    const problems = (validateSeeds.errors ?? []).map((e) => `${e.instancePath || 'body'} ${e.message ?? 'is invalid'}`);
    return { ok: false, problems };
  }
  const problems: string[] = [];
  const seeds: ProfileUpdate[] = [];
  entries.forEach((entry, i) => {
    const { mbox3rdPartyId, mboxPC } = entry;
    if ((mbox3rdPartyId === undefined) === (mboxPC === undefined)) {
      problems.push(`/${i} needs exactly one of mbox3rdPartyId or mboxPC`);
      return;
    }
    const identity =
      mbox3rdPartyId === undefined ? { kind: 'mboxPC' as const, value: mboxPC ?? '' } : { kind: 'mbox3rdPartyId' as const, value: mbox3rdPartyId };
    const problem = identityProblem(identity.value);
    if (problem) problems.push(`/${i}/${identity.kind}: ${problem}`);
    seeds.push({ identity, attributes: entry.attributes ?? {} });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, seeds };
}
