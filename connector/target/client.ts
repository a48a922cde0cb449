import { Pool } from 'undici';
import { TargetError } from '../errors.js';
import type { TargetRequest } from '../profile.js';
import { classifyReply } from './reply.js';

export interface TargetClientOptions {
  /** Origin of every request URL, e.g. https://acme.tt.omtrdc.net */
  baseUrl: string;
  timeoutMs: number;
  /** Keep-alive connections; one per concurrent request. */
  connections: number;
}

/** Sends built requests to Target over a keep-alive pool and turns replies into typed errors. */
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

  /** Sends one request; resolves on `true…`, rejects with a TargetError whose `retryable` says what to do. */
  async send(request: TargetRequest): Promise<void> {
    const path = this.pathOf(request.url);
    let status: number;
    let retryAfter: string | undefined;
    let body: string;
    try {
      const res = await this.pool.request({
        path,
        method: request.method,
        headers:
          request.body === undefined ? undefined : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: request.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      status = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      body = await res.body.text();
    } catch (cause) {
      // Connection refused or reset, DNS, timeouts: the request may never have arrived.
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new TargetError(`request to Target failed: ${code}`, true, { cause });
    }
    const failure = classifyReply(status, retryAfter, body);
    if (failure) throw failure;
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
