import { ACKNOWLEDGED, failureOf, type SendResult } from '../../core/delivery/send-result.js';
import type { TargetRequest } from '../../core/profile.js';
import { classifyReply } from '../../core/target-api/reply.js';
import { OriginPool } from './origin-pool.js';

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

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

/** Sends built requests to Target over a keep-alive pool and turns each reply into a SendResult. */
export class TargetClient {
  private readonly pool: OriginPool;

  constructor(private readonly options: TargetClientOptions) {
    this.pool = new OriginPool({ ...options, what: 'request to Target' });
  }

  /** Sends one request: acknowledged on `true…`, otherwise retryable or permanent by the API's rules. Never rejects. */
  async send(request: TargetRequest): Promise<SendResult> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const reply = await this.pool.exchange({
        url: request.url,
        method: request.method,
        headers: request.body === undefined ? undefined : FORM,
        body: request.body,
      });
      status = reply.status;
      const failure = classifyReply(reply.status, reply.retryAfter, reply.body, Date.now(), { url: request.url, pathKey: 'target.path' });
      return failure ? failureOf(failure) : ACKNOWLEDGED;
    } catch (error) {
      return failureOf(error);
    } finally {
      this.options.observer?.replied?.(request.method, status, performance.now() - started);
    }
  }

  /** Closes every connection after in-flight requests finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
