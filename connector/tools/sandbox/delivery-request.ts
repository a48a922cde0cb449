/** Reads and validates one Delivery API call (`POST /rest/v1/delivery`) the way the sandbox's Target does. Pure. */
import type { ProfileIdentity } from '../../core/profile.js';
import { MAX_DELIVERY_BODY_BYTES } from '../../core/target-api/limits.js';
import { identityProblem } from './update-request.js';

export interface RawDeliveryRequest {
  /** Query string without the leading `?`. */
  query: string;
  contentType: string | undefined;
  body: string;
  /** The body was over MAX_DELIVERY_BODY_BYTES (and was not kept). */
  bodyTooLarge: boolean;
  /** The Authorization header, when sent. */
  authorization: string | undefined;
}

export type ParsedDelivery =
  | { ok: true; sessionId: string; identity: ProfileIdentity; mboxes: string[]; attributes: Record<string, string> }
  | { ok: false; status: 400 | 401 | 404 | 413 | 415; message: string };

const CHANNELS = ['web', 'mobile'];
const MAX_MBOX_NAME_LENGTH = 250;
// Characters Target's mbox names must not hold: quotes, angle brackets, the query's own
// separators, backslashes and control characters.
const BAD_MBOX_CHARACTERS = /["'<>&%\\]|\p{Cc}/u;

/**
 * Checks the query (`client` is this account, `sessionId` present), the token when the account
 * requires one, and the JSON body: `id.thirdPartyId` or `id.tntId`, `context.channel`, mbox names
 * and string `profileParameters` (of every execute and prefetch mbox, later ones winning).
 */
export function parseDeliveryRequest(raw: RawDeliveryRequest, clientCode: string, requiredToken: string | undefined): ParsedDelivery {
  const query = new URLSearchParams(raw.query);
  const client = query.get('client');
  if (client === null || client === '') return reject(400, 'the client query parameter is required');
  if (client !== clientCode) return reject(404, `unknown client code ${JSON.stringify(client)}`);
  const sessionId = query.get('sessionId');
  if (sessionId === null || sessionId === '') return reject(400, 'the sessionId query parameter is required');
  if (requiredToken !== undefined && raw.authorization !== `Bearer ${requiredToken}`) {
    return reject(401, 'authentication required: send Authorization: Bearer <token>');
  }
  if (raw.bodyTooLarge) return reject(413, `body is over ${MAX_DELIVERY_BODY_BYTES} bytes`);
  if (!(raw.contentType ?? '').toLowerCase().startsWith('application/json')) return reject(415, 'the body must be application/json');
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    return reject(400, 'the body is not JSON');
  }
  if (!isObject(body)) return reject(400, 'the body must be a JSON object');

  const identity = identityOf(body['id']);
  if (typeof identity === 'string') return reject(400, identity);
  const context = body['context'];
  if (!isObject(context) || typeof context['channel'] !== 'string') return reject(400, 'context.channel is required');
  if (!CHANNELS.includes(context['channel'])) return reject(400, `context.channel must be one of ${CHANNELS.join(', ')}`);

  const mboxes: string[] = [];
  const attributes: Record<string, string> = {};
  for (const part of ['execute', 'prefetch'] as const) {
    const section = body[part];
    if (section === undefined) continue;
    if (!isObject(section)) return reject(400, `${part} must be an object`);
    const list = section['mboxes'];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return reject(400, `${part}.mboxes must be an array`);
    for (const [i, mbox] of list.entries()) {
      const problem = mboxProblem(mbox, `${part}.mboxes[${i}]`, attributes);
      if (problem) return reject(400, problem);
      mboxes.push((mbox as { name: string }).name);
    }
  }
  if (mboxes.length === 0) return reject(400, 'the call names no mbox (execute.mboxes or prefetch.mboxes)');
  return { ok: true, sessionId, identity, mboxes, attributes };
}

/** The identity of `id`, or why it is invalid. */
function identityOf(id: unknown): ProfileIdentity | string {
  if (!isObject(id)) return 'id.thirdPartyId or id.tntId is required';
  const thirdPartyId = id['thirdPartyId'];
  const tntId = id['tntId'];
  if (thirdPartyId !== undefined && tntId !== undefined) return 'send either id.thirdPartyId or id.tntId, not both';
  const [field, value, kind] = thirdPartyId !== undefined ? ['thirdPartyId', thirdPartyId, 'mbox3rdPartyId' as const] : ['tntId', tntId, 'mboxPC' as const];
  if (value === undefined) return 'id.thirdPartyId or id.tntId is required';
  if (typeof value !== 'string') return `id.${field} must be a string`;
  const problem = identityProblem(value);
  return problem ? `invalid id.${field}: ${problem}` : { kind, value };
}

/** Why one mbox entry is invalid, or undefined; its string profile parameters are added to `into`. */
function mboxProblem(mbox: unknown, at: string, into: Record<string, string>): string | undefined {
  if (!isObject(mbox)) return `${at} must be an object`;
  const { name, index, profileParameters } = mbox;
  if (typeof name !== 'string' || name.trim() === '') return `${at}.name must be a non-empty string`;
  if (name.length > MAX_MBOX_NAME_LENGTH) return `${at}.name is longer than ${MAX_MBOX_NAME_LENGTH} characters`;
  if (BAD_MBOX_CHARACTERS.test(name)) return `${at}.name ${JSON.stringify(name)} holds a character mbox names must not hold`;
  if (index !== undefined && !(Number.isInteger(index) && (index as number) >= 0)) return `${at}.index must be a non-negative integer`;
  if (profileParameters === undefined) return undefined;
  if (!isObject(profileParameters)) return `${at}.profileParameters must be an object`;
  for (const [key, value] of Object.entries(profileParameters)) {
    if (typeof value !== 'string') return `${at}.profileParameters.${key} must be a string`;
    // As with single updates: empty names and values are not stored (Target cannot clear attributes).
    if (key !== '' && value !== '') into[key] = value;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reject(status: 400 | 401 | 404 | 413 | 415, message: string): ParsedDelivery {
  return { ok: false, status, message };
}
