import { Pool } from 'undici';
import { ACKNOWLEDGED, failureOf, type SendResult } from '../../core/delivery/send-result.js';
import { TargetError } from '../../core/errors.js';
import type { TargetRequest } from '../../core/profile.js';
import { classifyReply } from '../../core/target-api/reply.js';

/** What the client reports of each request, for metrics: the HTTP status when one came back. */
export interface TargetClientObserver {
  replied?(method: TargetRequest['method'], status: number | undefined, durationMs: number): void;
}

export interface TargetClientOptions {
  /** Origin of every request URL, e.g. https://acme.tt.omtrdc.net */
  baseUrl: string;
  timeoutMs: number;
  /** Keep-alive connections; one per concurrent request. */
  connections: number;
  observer?: TargetClientObserver;
}

/** Sends built requests to Target over a keep-alive pool and turns each reply into a SendResult. */
export class TargetClient {
  private readonly pool: Pool;
  private readonly origin: string;

  constructor(private readonly options: TargetClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: options.timeoutMs,
    });
  }

  /** Sends one request: acknowledged on `true…`, otherwise retryable or permanent by the API's rules. Never rejects. */
  async send(request: TargetRequest): Promise<SendResult> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const reply = await this.exchange(request);
      status = reply.status;
      const failure = classifyReply(reply.status, reply.retryAfter, reply.body, Date.now(), { url: request.url, pathKey: 'target.path' });
      return failure ? failureOf(failure) : ACKNOWLEDGED;
    } catch (error) {
      return failureOf(error);
    } finally {
      this.options.observer?.replied?.(request.method, status, performance.now() - started);
    }
  }

  /** One HTTP exchange; rejects with a retryable TargetError when no reply came back. */
  private async exchange(request: TargetRequest): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
    const path = this.pathOf(request.url);
    try {
      const res = await this.pool.request({
        path,
        method: request.method,
        headers: request.body === undefined ? undefined : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: request.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const header = res.headers['retry-after'];
      return { status: res.statusCode, retryAfter: Array.isArray(header) ? header[0] : header, body: await res.body.text() };
    } catch (cause) {
      // Connection refused or reset, DNS, timeouts: the request may never have arrived.
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new TargetError(`request to Target failed: ${code}`, true, { cause });
    }
  }

  /** The path and query of a URL on this client's origin; parsing only what the prefix test cannot settle. */
  private pathOf(url: string): string {
    // Built URLs start with the configured origin; slicing saves a URL parse per request.
    if (url.startsWith(this.origin) && url[this.origin.length] === '/') return url.slice(this.origin.length);
    const parsed = new URL(url);
    if (parsed.origin !== this.origin) {
      throw new TargetError(`request for ${parsed.origin} sent to a client for ${this.origin}`, false);
    }
    return parsed.pathname + parsed.search;
  }

  /** Closes every connection after in-flight requests finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
