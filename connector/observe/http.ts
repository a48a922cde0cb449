/** The observability HTTP endpoint: Prometheus /metrics, liveness /healthz, readiness /readyz. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

/** What the endpoint serves and where. */
export interface ObserveServerOptions {
  host: string;
  /** TCP port; 0 picks a free one (the caller decides whether a configured 0 means "off"). */
  port: number;
  metrics: Pick<Metrics, 'registry'>;
  /** True once the connector can do its work (consuming, Target reachable); read per request. */
  isReady: () => boolean;
}

/** A running endpoint. */
export interface ObserveServer {
  /** The port actually bound. */
  port: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType }).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ObserveServerOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    reply(res, 405, 'method not allowed\n');
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/metrics': {
      const { registry } = options.metrics;
      reply(res, 200, await registry.metrics(), registry.contentType);
      return;
    }
    case '/healthz':
      reply(res, 200, 'ok\n');
      return;
    case '/readyz':
      if (options.isReady()) reply(res, 200, 'ready\n');
      else reply(res, 503, 'not ready\n');
      return;
    default:
      reply(res, 404, 'not found; try /metrics, /healthz or /readyz\n');
  }
}

/** Starts listening; resolves once bound, rejects if the port cannot be bound. */
export async function startObserveServer(options: ObserveServerOptions): Promise<ObserveServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() only drops idle sockets; a stalled scrape would otherwise hold shutdown for minutes.
        server.closeAllConnections();
      }),
  };
}
