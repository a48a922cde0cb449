import { ACKNOWLEDGED, failureOf, type SendResult } from '../../core/delivery/send-result.js';
import { classifyDeliveryReply, DELIVERY_PATH_KEY } from '../../core/target-api/delivery-reply.js';
import { JSON_CONTENT_TYPE, type DeliveryRequest } from '../../core/target-api/delivery-request.js';
import { OriginPool } from './origin-pool.js';

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
  private readonly pool: OriginPool;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: DeliveryClientOptions) {
    this.pool = new OriginPool({ ...options, what: 'Delivery API call' });
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
      const reply = await this.pool.exchange({ url: call.url, method: 'POST', headers: this.headers, body: call.body });
      status = reply.status;
      const failure = classifyDeliveryReply(reply.status, reply.retryAfter, reply.body, Date.now(), { url: call.url, pathKey: DELIVERY_PATH_KEY });
      return failure ? failureOf(failure) : ACKNOWLEDGED;
    } catch (error) {
      return failureOf(error);
    } finally {
      this.options.observer?.replied?.(status, performance.now() - started);
    }
  }

  /** Closes every connection after in-flight calls finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
