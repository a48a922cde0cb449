import { Pool } from 'undici';
import { ACKNOWLEDGED, failureOf, type SendResult } from '../../core/delivery/send-result.js';
import { TargetError } from '../../core/errors.js';
import { classifyDeliveryReply, DELIVERY_PATH_KEY } from '../../core/target-api/delivery-reply.js';
import { JSON_CONTENT_TYPE, type DeliveryRequest } from '../../core/target-api/delivery-request.js';

/** What the client reports of each call, for metrics: the HTTP status when one came back. */
export interface DeliveryClientObserver {
  replied?(status: number | undefined, durationMs: number): void;
}

export interface DeliveryClientOptions {
  /** Origin of every call URL, e.g. https://acme.tt.omtrdc.net */
  baseUrl: string;
  timeoutMs: number;
  /** Keep-alive connections; one per concurrent call (the route's concurrency). */
  connections: number;
  /** `target.auth_token`: sent as `Authorization: Bearer <token>` when set; never logged. */
  authToken?: string | undefined;
  observer?: DeliveryClientObserver;
}

/** Sends built Delivery API calls over a keep-alive pool and turns each reply into a SendResult. */
export class DeliveryClient {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: DeliveryClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: options.timeoutMs,
    });
    this.headers = {
      'content-type': `${JSON_CONTENT_TYPE}; charset=utf-8`,
      ...(options.authToken !== undefined && options.authToken !== '' && { authorization: `Bearer ${options.authToken}` }),
    };
  }

  /** Sends one call: acknowledged on 2xx with a JSON body, otherwise retryable or permanent by the route's rules. Never rejects. */
  async send(call: DeliveryRequest): Promise<SendResult> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const reply = await this.exchange(call);
      status = reply.status;
      const failure = classifyDeliveryReply(reply.status, reply.retryAfter, reply.body, Date.now(), { url: call.url, pathKey: DELIVERY_PATH_KEY });
      return failure ? failureOf(failure) : ACKNOWLEDGED;
    } catch (error) {
      return failureOf(error);
    } finally {
      this.options.observer?.replied?.(status, performance.now() - started);
    }
  }

  /** One HTTP exchange; rejects with a retryable TargetError when no reply came back. */
  private async exchange(call: DeliveryRequest): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
    const path = this.pathOf(call.url);
    try {
      const res = await this.pool.request({
        path,
        method: 'POST',
        headers: this.headers,
        body: call.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const header = res.headers['retry-after'];
      return { status: res.statusCode, retryAfter: Array.isArray(header) ? header[0] : header, body: await res.body.text() };
    } catch (cause) {
      // Connection refused or reset, DNS, timeouts: the call may never have arrived.
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new TargetError(`Delivery API call failed: ${code}`, true, { cause });
    }
  }

  /** The path and query of a URL on this client's origin. */
  private pathOf(url: string): string {
    if (url.startsWith(this.origin) && url[this.origin.length] === '/') return url.slice(this.origin.length);
    const parsed = new URL(url);
    if (parsed.origin !== this.origin) {
      throw new TargetError(`Delivery call for ${parsed.origin} sent to a client for ${this.origin}`, false);
    }
    return parsed.pathname + parsed.search;
  }

  /** Closes every connection after in-flight calls finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
