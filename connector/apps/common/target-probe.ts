/**
 * The Target probe of `check`: one update request on the path `run` sends updates to, for a
 * harmless identity and without attributes, judged by the rule `run` judges replies by (2xx with
 * a body starting `true`). Any web server answers `GET /`; only the Single Profile Update API
 * answers this request with `true…`, so a wrong client code, path or base URL fails here.
 *
 * Caveats, from Adobe's "Single Profile Update API" page (Experience League, target-dev): it
 * documents only the success answer, `trueRequest successfully submitted`, and not what Target
 * answers a request without `profile.*` parameters or an unknown client code. Its examples put the
 * literal word `client` in the path and the client code only in the host name, so a wrong
 * target.client_code may pass here when target.base_url names the right account (the sandbox
 * answers 404 instead). The API only updates and never creates a profile, and the request carries
 * no attribute, so no profile changes; it may count as one of the account's 1,000,000 updates per
 * rolling 24 hours.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { TargetConfig } from '../../core/config.js';
import { requestBuilderFor } from './delivery.js';
import { classifyReply, snippet } from '../../core/target-api/reply.js';
import { noAnswerReason, withoutCredentials } from './http-probe.js';
import { failed, passed, type ProbeResult } from './probe.js';

/** The part of the `target` config the probe needs. */
export type TargetEndpointConfig = Pick<TargetConfig, 'base_url' | 'path' | 'client_code'>;

/** The profile the probe addresses: an mbox3rdPartyId no visitor has. */
export const PROBE_IDENTITY = { kind: 'mbox3rdPartyId', value: 'target-profile-sink-check' } as const;

/** What came back for the probe: status, the start of the body and any redirect, or why nothing came. */
export type TargetAnswer = { answered: true; status: number; body: string; location?: string | undefined } | { answered: false; reason: string };

// Enough to recognise `true…` and to quote an error page; the rest is not read.
const MAX_BODY_BYTES = 4096;
const SNIPPET_CHARS = 120;

/** The probe's URL: the configured update endpoint, the probe identity and no attribute. */
export function probeUrl(target: TargetEndpointConfig): string {
  // The builder sends nothing for an update without attributes, so only its endpoint is used.
  const { endpoint } = requestBuilderFor(target);
  return `${endpoint}?${PROBE_IDENTITY.kind}=${encodeURIComponent(PROBE_IDENTITY.value)}`;
}

/** The body on one line, cut and quoted, for a message. */
function quoted(body: string): string {
  return body.trim() === '' ? '(empty body)' : `"${snippet(body, SNIPPET_CHARS)}"`;
}

/** Judges the answer to the probe; `endpoint` is the update URL as the user sees it. Pure. */
export function judgeTargetAnswer(answer: TargetAnswer, endpoint: string, clientCode: string): ProbeResult {
  const probe = 'Target endpoint';
  if (!answer.answered) return failed(probe, `no HTTP answer from ${endpoint}: ${answer.reason}`);
  const { status, body } = answer;
  // Without a Retry-After, the time of the answer plays no part: any `now` will do.
  const rejection = classifyReply(status, undefined, body, 0);
  if (rejection === undefined) return passed(probe, `${endpoint} accepted an update without attributes: ${quoted(body)}`);
  const answered = `HTTP ${status} ${quoted(body)}`;
  if (status >= 200 && status < 300) {
    return failed(probe, `this does not look like Adobe Target: ${endpoint} answered ${answered} instead of "true…"`);
  }
  if (status === 404) {
    return failed(probe, `the update path ${endpoint} does not exist: check target.client_code (${clientCode}) and target.path (answered ${answered})`);
  }
  if (status === 401 || status === 403) {
    return failed(
      probe,
      `${endpoint} refused the update as not authorized (answered ${answered}): the connector sends updates without ` +
        `credentials, so the account's Profile API must not require authentication (Target: Administration > Implementation)`,
    );
  }
  const redirect = answer.location === undefined ? '' : `, redirecting to ${answer.location}`;
  const temporary = rejection.retryable ? ' (a temporary failure: `run` retries such answers; check again later)' : '';
  return failed(probe, `${endpoint} answered ${answered}${redirect}${temporary}`);
}

/** The first MAX_BODY_BYTES of a response body, as text. */
async function bodyStart(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early destroys the body, so a large error page is not downloaded.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** Sends the probe request (a GET, as `run` sends small updates) and reads what came back. */
async function askTarget(url: string, timeoutMs: number): Promise<TargetAnswer> {
  // A private agent so the probe's connect timeout applies and no pooled connection outlives it.
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(url, { method: 'GET', dispatcher: agent, signal: deadline });
    const { location } = res.headers;
    return { answered: true, status: res.statusCode, body: await bodyStart(res.body), location: typeof location === 'string' ? location : undefined };
  } catch (err) {
    return { answered: false, reason: deadline.aborted ? `no answer within ${timeoutMs} ms` : noAnswerReason(err) };
  } finally {
    await agent.destroy();
  }
}

/** Sends the probe to the configured update path and reads what came back within `timeoutMs`. */
export async function askTargetProbe(target: TargetEndpointConfig, timeoutMs: number): Promise<TargetAnswer> {
  // The Target client sends to the origin without user info, so the probe does too.
  return askTarget(withoutCredentials(probeUrl(target)), timeoutMs);
}

/** The update URL as the user sees it in the probe's messages. */
export function shownEndpoint(target: TargetEndpointConfig): string {
  return withoutCredentials(requestBuilderFor(target).endpoint);
}

/** Probes the configured update path within `timeoutMs` and says whether Target answers there. */
export async function probeTarget(target: TargetEndpointConfig, timeoutMs: number): Promise<ProbeResult> {
  return judgeTargetAnswer(await askTargetProbe(target, timeoutMs), shownEndpoint(target), target.client_code);
}
