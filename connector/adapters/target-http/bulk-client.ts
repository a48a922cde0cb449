import { Pool, request as requestOnce } from 'undici';
import { failureOf, type BulkStatusResult, type BulkSubmitResult } from '../../core/delivery/send-result.js';
import { TargetError } from '../../core/errors.js';
import type { BatchFile } from '../../core/target-api/batch-file.js';
import { parseStatusReply, parseSubmitReply, refusalMessage } from '../../core/target-api/batch-reply.js';
import { classifyReply } from '../../core/target-api/reply.js';
import { FORM_CONTENT_TYPE } from '../../core/target-api/request-builder.js';
import type { TargetClientObserver } from './client.js';

export interface TargetBulkClientOptions {
  /** Origin of the batchUpdate endpoint, e.g. https://acme.tt.omtrdc.net */
  baseUrl: string;
  /** Path of the batchUpdate endpoint, client code already in, e.g. /m2/acme/v2/profile/batchUpdate */
  batchPath: string;
  timeoutMs: number;
  observer?: TargetClientObserver;
}

/** A reply as read off the wire. */
interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

// A submit and a few status polls at a time are all bulk traffic is; more connections buy nothing.
const CONNECTIONS = 4;

/**
 * Speaks Target's Bulk Profile Update API v2 over a keep-alive pool: submits batch files and reads
 * their status reports, turning each reply into a result by the API's rules. Never rejects.
 */
export class TargetBulkClient {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly batchPath: string;

  constructor(private readonly options: TargetBulkClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.batchPath = options.batchPath.startsWith('/') ? options.batchPath : `/${options.batchPath}`;
    this.pool = new Pool(this.origin, {
      connections: CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: options.timeoutMs,
    });
  }

  /**
   * POSTs a batch file as `curl --data-binary` does: accepted on `success` true; refused for good on
   * `success` false; otherwise retryable or permanent by the status, as single updates are.
   */
  async submit(file: BatchFile): Promise<BulkSubmitResult> {
    const batch = `batch of ${file.ids.length} rows (${file.bytes} bytes)`;
    const reply = await this.exchange('POST', this.batchPath, file.text, batch);
    if (reply instanceof TargetError) return failureOf(reply);
    // Only the submit's answer speaks of the settings: a status URL is Target's own.
    if (reply.status < 200 || reply.status >= 300) return failureOf(this.refusal(reply, batch, this.origin + this.batchPath));
    try {
      const answer = parseSubmitReply(reply.body);
      if (answer.success) return { kind: 'accepted', statusUrl: answer.statusUrl };
      return failureOf(new TargetError(`Target refused the ${batch}: ${answer.message}`, false, { status: reply.status }));
    } catch (error) {
      return failureOf(new TargetError(`${batch}: ${(error as Error).message}`, false, { status: reply.status, cause: error }));
    }
  }

  /** GETs a batch's status URL: the rows' statuses, or retryable or permanent by the status, as single updates are. */
  async status(statusUrl: string): Promise<BulkStatusResult> {
    const url = URL.canParse(statusUrl, this.origin) ? new URL(statusUrl, this.origin) : undefined;
    if (!url) return failureOf(new TargetError(`Target named a batchStatus URL that is not a URL: ${JSON.stringify(statusUrl)}`, false));
    const what = `status of batch ${url.searchParams.get('batchId') ?? url.pathname}`;
    const reply = url.origin === this.origin ? await this.exchange('GET', url.pathname + url.search, undefined, what) : await this.exchangeElsewhere(url, what);
    if (reply instanceof TargetError) return failureOf(reply);
    if (reply.status < 200 || reply.status >= 300) return failureOf(this.refusal(reply, what));
    try {
      const { batchId, rows, unknown } = parseStatusReply(reply.body);
      return { kind: 'report', batchId, rows, unknown };
    } catch (error) {
      return failureOf(new TargetError(`${what}: ${(error as Error).message}`, false, { status: reply.status, cause: error }));
    }
  }

  /** Closes every connection after in-flight requests finish. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** A non-2xx reply as an error: retryable by its status, saying Target's own message when the body carries one; `url` is the batch door's, when it was asked. */
  private refusal(reply: Reply, what: string, url?: string): TargetError {
    const door = url === undefined ? undefined : { url, pathKey: 'target.bulk_path' };
    // classifyReply judges every status outside 2xx a failure, so it always returns an error here.
    const judged = classifyReply(reply.status, reply.retryAfter, reply.body, Date.now(), door) as TargetError;
    const message = refusalMessage(reply.body);
    const said = message === undefined ? judged.message : `Target answered ${reply.status}: ${message}`;
    return new TargetError(`${what}: ${said}`, judged.retryable, {
      status: reply.status,
      retryAfterMs: judged.retryAfterMs,
      misconfiguration: judged.misconfiguration,
    });
  }

  /** One exchange on the pool; a TargetError (retryable) when no reply came back. */
  private async exchange(method: 'GET' | 'POST', path: string, body: string | undefined, what: string): Promise<Reply | TargetError> {
    return this.observe(method, what, async () => {
      const res = await this.pool.request({
        path,
        method,
        headers: body === undefined ? undefined : { 'content-type': FORM_CONTENT_TYPE },
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    });
  }

  /** A GET of a status URL on another origin than the pool's, on a one-off connection. */
  private async exchangeElsewhere(url: URL, what: string): Promise<Reply | TargetError> {
    return this.observe('GET', what, async () => {
      const res = await requestOnce(url, {
        method: 'GET',
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    });
  }

  /** Runs one exchange, reporting its status and duration to the observer; connection failures become retryable errors. */
  private async observe(
    method: 'GET' | 'POST',
    what: string,
    exchange: () => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>,
  ): Promise<Reply | TargetError> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const res = await exchange();
      status = res.status;
      const header = res.headers['retry-after'];
      return { status: res.status, retryAfter: Array.isArray(header) ? header[0] : header, body: res.body };
    } catch (cause) {
      // Connection refused or reset, DNS, timeouts: the request may never have arrived.
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      return new TargetError(`${what}: request to Target failed: ${code}`, true, { cause });
    } finally {
      this.options.observer?.replied?.(method, status, performance.now() - started);
    }
  }
}
