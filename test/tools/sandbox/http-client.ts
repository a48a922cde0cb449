/** A minimal HTTP client for sandbox tests: status, headers and text of one request. */
import { request } from 'undici';
import type { TargetRequest } from '../../../connector/core/profile.js';

export interface Reply {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends one request and reads the whole answer. */
export async function call(method: 'GET' | 'POST', url: string, options: { body?: string; contentType?: string; timeoutMs?: number } = {}): Promise<Reply> {
  const headers = options.body === undefined ? {} : { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' };
  const res = await request(url, {
    method,
    body: options.body,
    headers,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

/** Sends a request the request builder produced. */
export function send(req: TargetRequest): Promise<Reply> {
  return call(req.method, req.url, req.body === undefined ? {} : { body: req.body });
}

/** GETs and parses a JSON answer. */
export async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const reply = await call('GET', url);
  return { status: reply.status, json: JSON.parse(reply.text) as unknown };
}

/** POSTs a JSON body. */
export function postJson(url: string, value: unknown): Promise<Reply> {
  return call('POST', url, { body: JSON.stringify(value), contentType: 'application/json' });
}
