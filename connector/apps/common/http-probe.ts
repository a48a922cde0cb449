/** Whether an HTTP endpoint answers at all: any status counts, only connection errors and timeouts fail. */
import { Agent, request } from 'undici';

/** The status the endpoint answered with, or why it did not answer. */
export type HttpAnswer = { answered: true; status: number } | { answered: false; reason: string };

/** The URL without user info, safe to print. */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Why a request got no HTTP answer, from what undici threw: its error code and message. */
export function noAnswerReason(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: string };
  // DOMException codes are numbers that say nothing to a user; undici's are names like ECONNREFUSED.
  return typeof code === 'string' && message && !message.includes(code) ? `${code}: ${message}` : (message ?? String(err));
}

/** Sends one GET to `url` and reports whether any HTTP answer came back within `timeoutMs`. */
export async function httpAnswers(url: string, timeoutMs: number): Promise<HttpAnswer> {
  // A private agent so the probe's connect timeout applies and no pooled connection outlives it.
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await request(withoutCredentials(url), { method: 'GET', dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return { answered: true, status: res.statusCode };
  } catch (err) {
    return { answered: false, reason: noAnswerReason(err) };
  } finally {
    await agent.destroy();
  }
}
