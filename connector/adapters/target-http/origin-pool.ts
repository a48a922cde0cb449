/**
 * One keep-alive connection pool to Target's origin and the one HTTP exchange every door's client
 * makes over it: send, read status, Retry-After and body, and turn a missing reply (refused, reset,
 * timed out) into a retryable TargetError. What a reply means is each door's own rule.
 */
import { Pool } from 'undici';
import { TargetError } from '../../core/errors.js';

/** What came back for one exchange. */
export interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One request on the pool's origin. */
export interface Exchange {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
}

export interface OriginPoolOptions {
  /** Origin of every URL, e.g. https://acme.tt.omtrdc.net */
  baseUrl: string;
  timeoutMs: number;
  /** Keep-alive connections; one per concurrent request. */
  connections: number;
  /** What a request is called in errors: "request to Target", "Delivery API call". */
  what: string;
}

/** A keep-alive pool to one origin; requests for another origin are refused. */
export class OriginPool {
  private readonly pool: Pool;
  private readonly origin: string;

  constructor(private readonly options: OriginPoolOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: options.timeoutMs,
    });
  }

  /** One HTTP exchange; rejects with a retryable TargetError when no reply came back. */
  async exchange(request: Exchange): Promise<Reply> {
    const path = this.pathOf(request.url);
    try {
      const res = await this.pool.request({
        path,
        method: request.method,
        headers: request.headers,
        body: request.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const header = res.headers['retry-after'];
      return { status: res.statusCode, retryAfter: Array.isArray(header) ? header[0] : header, body: await res.body.text() };
    } catch (cause) {
      // Connection refused or reset, DNS, timeouts: the request may never have arrived.
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new TargetError(`${this.options.what} failed: ${code}`, true, { cause });
    }
  }

  /** The path and query of a URL on this pool's origin; parsing only what the prefix test cannot settle. */
  private pathOf(url: string): string {
    // Built URLs start with the configured origin; slicing saves a URL parse per request.
    if (url.startsWith(this.origin) && url[this.origin.length] === '/') return url.slice(this.origin.length);
    const parsed = new URL(url);
    if (parsed.origin !== this.origin) {
      throw new TargetError(`${this.options.what} for ${parsed.origin} sent to a client for ${this.origin}`, false);
    }
    return parsed.pathname + parsed.search;
  }

  /** Closes every connection after in-flight requests finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
