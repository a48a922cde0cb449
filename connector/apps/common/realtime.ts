/**
 * The realtime route's door as the apps see it: which mappings route there, and the
 * `check` probe of the Delivery endpoint.
 *
 * The probe sends one Delivery call for a dedicated check id with no profile parameter, judged by
 * the route's own rule (2xx with a JSON body). Unlike the single API, a Delivery call for an
 * unknown thirdPartyId creates the profile; with no parameter the check profile holds nothing.
 * The call is a billed server call, like every Delivery call.
 */
import { Agent, request } from 'undici';
import type { TargetConfig } from '../../core/config.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import { classifyDeliveryReply } from '../../core/target-api/delivery-reply.js';
import { JSON_CONTENT_TYPE } from '../../core/target-api/delivery-request.js';
import { deliveryRequestBuilderFor } from './delivery.js';
import { snippet } from '../../core/target-api/reply.js';
import { noAnswerReason, withoutCredentials } from './http-probe.js';
import { failed, passed, type ProbeResult } from './probe.js';
import { PROBE_IDENTITY, type TargetAnswer } from './target-probe.js';

/** The part of the `target` config the Delivery door needs. */
export type DeliveryDoorConfig = Pick<TargetConfig, 'base_url' | 'client_code' | 'realtime' | 'auth_token'>;

/** Whether some mapping entry of the file routes its updates through the Delivery API. */
export function usesRealtimeRoute(mapping: Pick<CompiledMapping, 'routes'>): boolean {
  return mapping.routes.includes('realtime');
}

const PROBE = 'Target Delivery endpoint';
// Enough to judge the JSON and quote an error; the rest is not read.
const MAX_BODY_CHARS = 4096;
const SNIPPET_CHARS = 120;

/** Judges the answer to the Delivery probe; `endpoint` is the Delivery URL as the user sees it. Pure. */
export function judgeDeliveryAnswer(answer: TargetAnswer, endpoint: string, clientCode: string): ProbeResult {
  if (!answer.answered) return failed(PROBE, `no HTTP answer from ${endpoint}: ${answer.reason}`);
  const { status, body } = answer;
  const rejection = classifyDeliveryReply(status, undefined, body, 0); // no Retry-After is read, so the time plays no part
  const quoted = body.trim() === '' ? '(empty body)' : `"${snippet(body, SNIPPET_CHARS)}"`;
  if (rejection === undefined) return passed(PROBE, `${endpoint} accepted a Delivery call without profile parameters`);
  const answered = `HTTP ${status} ${quoted}`;
  if (status >= 200 && status < 300) {
    return failed(PROBE, `this does not look like Adobe Target's Delivery API: ${endpoint} answered ${answered} instead of JSON`);
  }
  if (status === 404) {
    return failed(
      PROBE,
      `the Delivery path ${endpoint} does not exist: check target.client_code (${clientCode}) and target.realtime.path (answered ${answered})`,
    );
  }
  if (status === 401 || status === 403) {
    return failed(
      PROBE,
      `${endpoint} refused the Delivery call as not authorized (answered ${answered}): set target.auth_token to the account's token, or renew it`,
    );
  }
  const temporary = rejection.retryable ? ' (a temporary failure: `run` retries such answers; check again later)' : '';
  return failed(PROBE, `${endpoint} answered ${answered}${temporary}`);
}

/** Sends the probe call (the check id, no parameter) to the configured Delivery door within `timeoutMs`. */
export async function askDeliveryProbe(target: DeliveryDoorConfig, timeoutMs: number): Promise<TargetAnswer> {
  const call = deliveryRequestBuilderFor(target).bare(PROBE_IDENTITY);
  // A private agent so the probe's timeouts apply and no pooled connection outlives it.
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const deadline = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { 'content-type': `${JSON_CONTENT_TYPE}; charset=utf-8` };
  if (target.auth_token) headers['authorization'] = `Bearer ${target.auth_token}`;
  try {
    const res = await request(withoutCredentials(call.url), { method: 'POST', headers, body: call.body, dispatcher: agent, signal: deadline });
    const text = await res.body.text();
    return { answered: true, status: res.statusCode, body: text.slice(0, MAX_BODY_CHARS) };
  } catch (err) {
    return { answered: false, reason: deadline.aborted ? `no answer within ${timeoutMs} ms` : noAnswerReason(err) };
  } finally {
    await agent.destroy();
  }
}

/** Probes the Delivery door within `timeoutMs` and says whether Target's Delivery API answers there. */
export async function probeDeliveryDoor(target: DeliveryDoorConfig, timeoutMs: number): Promise<ProbeResult> {
  const endpoint = withoutCredentials(deliveryRequestBuilderFor(target).endpoint);
  return judgeDeliveryAnswer(await askDeliveryProbe(target, timeoutMs), endpoint, target.client_code);
}
