/** The Target sandbox's HTTP front: routes requests to the simulator and the control endpoints. */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../../core/errors.js';
import type { IdentityKind, ProfileIdentity } from '../../core/profile.js';
import { MAX_DELIVERY_BODY_BYTES, MAX_POST_BODY_BYTES } from '../../core/target-api/limits.js';
import type { BatchDetail, BatchSummary } from './bulk-batches.js';
import type { FaultSettings } from './faults.js';
import { parseJson, readBody, readRawBody, sendJson, sendText } from './http-io.js';
import { resolveSandboxOptions, type SandboxOptions, type SandboxSettings } from './options.js';
import { parseProfileSeeds } from './profile-seeds.js';
import { TargetSimulator, type ReplyAction, type SandboxStats } from './simulator.js';
import { readStateFile, StateFileWriter } from './state-file.js';
import type { LoggedUpdate, UpdateQuery } from './update-log.js';

/** A running sandbox, driven in-process by tests. */
export interface Sandbox {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** The fault-draw seed in use, so a failing run can be replayed. */
  readonly seed: number;
  /** Stops listening and drops open connections, hung requests included. */
  close(): Promise<void>;
  /** Accepted updates, applied bulk rows and accepted Delivery calls in arrival order. */
  updates(query?: UpdateQuery): LoggedUpdate[];
  /** A profile's attribute values, or undefined when the profile does not exist. */
  profile(kind: IdentityKind, value: string): Record<string, string> | undefined;
  stats(): SandboxStats;
  /** Every bulk batch since the last reset, in submission order. */
  batches(): BatchSummary[];
  /** One bulk batch with each row's status, or undefined for an unknown id. */
  batch(id: string): BatchDetail | undefined;
  /** Forgets profiles, updates, batches, counters and quotas; restores the starting faults and seed. */
  reset(): void;
  /** Changes some fault settings; throws ConfigError when the result would be invalid. */
  setFaults(change: Partial<FaultSettings>): void;
  /** Creates (or extends) a profile so that update-only mode accepts updates for it. */
  seedProfile(identity: ProfileIdentity, attributes?: Record<string, string>): void;
}

// Seeding many profiles at once is legitimate; this only guards against runaway uploads.
const CONTROL_BODY_LIMIT = 16 * 1024 * 1024;

interface Context {
  simulator: TargetSimulator;
  settings: SandboxSettings;
  /** The sandbox's own base URL, known once it listens; batchStatus links are built on it. */
  url: string;
  /** Aborted on close so pending latency timers do not keep the process alive. */
  closing: AbortSignal;
  log: Logger | undefined;
}

/** Starts a sandbox listening on `options.host`:`options.port` and resolves once it accepts connections. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = resolveSandboxOptions(options);
  const saved = options.stateFile === undefined ? [] : await readStateFile(options.stateFile);
  let stateFile: StateFileWriter | undefined;
  const simulator = new TargetSimulator(settings, () => stateFile?.changed());
  simulator.restoreProfiles(saved);
  if (options.stateFile !== undefined) stateFile = new StateFileWriter(options.stateFile, () => simulator.profileEntries(), options.logger);
  const closing = new AbortController();
  // Every delayed reply waits on this one signal; the default cap of 10 listeners would warn
  // under any real load.
  setMaxListeners(Infinity, closing.signal);
  const ctx: Context = { simulator, settings, url: '', closing: closing.signal, log: options.logger };
  // Node's default 16 KB header cap would answer 431 before the 8 KB URL rule could answer 414.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      ctx.log?.error({ err }, 'sandbox request failed');
      if (res.headersSent) res.destroy();
      else sendText(res, 500, 'internal sandbox error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${isIPv6(settings.host) ? `[${settings.host}]` : settings.host}:${port}`;
  ctx.url = url;
  ctx.log?.info(
    {
      url,
      clientCode: settings.clientCode,
      seed: settings.seed,
      ...(options.stateFile !== undefined && { stateFile: options.stateFile, profiles: saved.length }),
    },
    'sandbox listening',
  );

  return {
    url,
    port,
    seed: settings.seed,
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await stateFile?.flush();
    },
    updates: (query) => simulator.updates(query),
    profile(kind, value) {
      const stored = simulator.profile({ kind, value });
      return stored && Object.fromEntries([...stored].map(([name, attribute]) => [name, attribute.value]));
    },
    stats: () => simulator.stats(),
    batches: () => simulator.batches(),
    batch: (id) => simulator.batch(id),
    reset: () => simulator.reset(),
    setFaults(change) {
      const problems = simulator.setFaults(change);
      if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ file: 'sandbox faults', message })));
    },
    seedProfile: (identity, attributes = {}) => simulator.seedProfiles([{ identity, attributes }]),
  };
}

async function route(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  const queryStart = target.indexOf('?');
  const path = queryStart < 0 ? target : target.slice(0, queryStart);
  const query = queryStart < 0 ? '' : target.slice(queryStart + 1);
  const segments = decodeSegments(path);
  if (!segments) return sendText(res, 400, 'malformed percent-encoding in path');

  const [first, second, third, fourth, fifth] = segments;
  if (first === 'm2' && segments.length === 4 && third === 'profile' && fourth === 'update') {
    return handleUpdate(ctx, req, res, second ?? '', query);
  }
  if (first === 'm2' && segments.length === 5 && third === 'v2' && fourth === 'profile') {
    if (fifth === 'batchUpdate') return handleBatchUpdate(ctx, req, res, second ?? '');
    if (fifth === 'batchStatus') return handleBatchStatus(ctx, req, res, second ?? '', query);
  }
  if (first === 'rest' && second === 'v1' && third === 'delivery' && segments.length === 3) return handleDelivery(ctx, req, res, query);
  if (first === 'rest' && second === 'v1' && third === 'profiles') {
    if (segments.length === 5 && fourth === 'thirdPartyId') {
      return handleReadBack(ctx, req, res, { kind: 'mbox3rdPartyId', value: fifth ?? '' }, query);
    }
    if (segments.length === 4) return handleReadBack(ctx, req, res, { kind: 'mboxPC', value: fourth ?? '' }, query);
  }
  if (first === '_sandbox' && segments.length === 2) return handleControl(ctx, req, res, second ?? '', query);
  sendText(res, 404, 'not found');
}

/** Path segments after the leading slash, percent-decoded; undefined when an escape is malformed. */
function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

async function handleUpdate(ctx: Context, req: IncomingMessage, res: ServerResponse, clientSegment: string, query: string): Promise<void> {
  const { simulator, settings } = ctx;
  const method = req.method;
  if (!knownClient(ctx, clientSegment)) {
    return perform(req, res, simulator.refuse(404, 'unknown client code'));
  }
  if (method !== 'GET' && method !== 'POST') {
    return perform(req, res, simulator.refuse(405, 'use GET or POST'));
  }
  const body = method === 'POST' ? await readBody(req, MAX_POST_BODY_BYTES) : undefined;
  const authority = req.headers.host ?? `${settings.host}:${req.socket.localPort ?? ''}`;
  const outcome = simulator.receive({
    method,
    urlBytes: Buffer.byteLength(`http://${authority}${req.url ?? ''}`),
    query,
    contentType: req.headers['content-type'],
    body: body?.text,
    bodyTooLarge: body?.tooLarge,
  });
  // A request counts as in flight until its response (or connection) closes, hung ones included.
  if (outcome.identity && !res.closed) res.once('close', simulator.trackInFlight(outcome.identity));
  ctx.log?.debug({ method, outcome: outcome.action.type }, 'update request');
  await performAfterLatency(ctx, req, res, outcome.action);
}

/** `POST /rest/v1/delivery?client=<code>&sessionId=<id>`: the Delivery API, the realtime route's door. */
async function handleDelivery(ctx: Context, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const { simulator } = ctx;
  if (req.method !== 'POST') return perform(req, res, { type: 'reply', status: 405, body: 'use POST' });
  const body = await readBody(req, MAX_DELIVERY_BODY_BYTES);
  const { authorization } = req.headers;
  const outcome = simulator.deliver({
    query,
    contentType: req.headers['content-type'],
    body: body.text,
    bodyTooLarge: body.tooLarge,
    authorization,
  });
  // A call counts as in flight on its session until its response (or connection) closes, hung ones included.
  if (outcome.sessionId !== undefined && !res.closed) res.once('close', simulator.trackSession(outcome.sessionId));
  ctx.log?.debug({ outcome: outcome.action.type === 'reply' ? outcome.action.status : outcome.action.type }, 'delivery request');
  await performAfterLatency(ctx, req, res, outcome.action);
}

/** `POST /m2/<client>/v2/profile/batchUpdate`: the body is the raw batch file, never form-decoded as a whole. */
async function handleBatchUpdate(ctx: Context, req: IncomingMessage, res: ServerResponse, clientSegment: string): Promise<void> {
  const { simulator, settings } = ctx;
  if (!knownClient(ctx, clientSegment)) return perform(req, res, simulator.refuseBatchUpdate(404, 'unknown client code'));
  if (req.method !== 'POST') return perform(req, res, simulator.refuseBatchUpdate(405, 'use POST'));
  // Keep at most one byte under the limit: a file must be smaller than it.
  const body = await readRawBody(req, settings.bulkLimits.maxBytes - 1);
  const action = simulator.submitBatch({
    contentType: req.headers['content-type'],
    size: body.size,
    bytes: body.bytes,
    statusUrl: (batchId) => `${ctx.url}/m2/${encodeURIComponent(clientSegment)}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`,
  });
  ctx.log?.debug({ bytes: body.size, outcome: action.type === 'reply' ? action.status : action.type }, 'batchUpdate request');
  await performAfterLatency(ctx, req, res, action);
}

/** `GET /m2/<client>/v2/profile/batchStatus?batchId=<id>`. */
async function handleBatchStatus(ctx: Context, req: IncomingMessage, res: ServerResponse, clientSegment: string, query: string): Promise<void> {
  const { simulator } = ctx;
  if (!knownClient(ctx, clientSegment)) return perform(req, res, simulator.refuseBatchStatus(404, 'unknown client code'));
  if (req.method !== 'GET') return perform(req, res, simulator.refuseBatchStatus(405, 'use GET'));
  await performAfterLatency(ctx, req, res, simulator.batchStatus(new URLSearchParams(query).get('batchId')));
}

/** Whether a `/m2/<segment>/...` path names this sandbox's client: its code or the literal `client`. */
function knownClient(ctx: Context, clientSegment: string): boolean {
  return clientSegment === 'client' || clientSegment === ctx.settings.clientCode;
}

/** Waits the configured latency, then performs `action`; drops the connection if the sandbox closes meanwhile. */
async function performAfterLatency(ctx: Context, req: IncomingMessage, res: ServerResponse, action: ReplyAction): Promise<void> {
  const latencyMs = ctx.simulator.faults.latencyMs;
  if (latencyMs > 0) {
    try {
      await sleep(latencyMs, undefined, { signal: ctx.closing });
    } catch {
      // Only the close() abort lands here: the sandbox is shutting down, so drop the connection.
      req.socket.destroy();
      return;
    }
  }
  perform(req, res, action);
}

function perform(req: IncomingMessage, res: ServerResponse, action: ReplyAction): void {
  switch (action.type) {
    case 'reply':
      return sendText(res, action.status, action.body, action.headers);
    case 'reset':
      // An RST rather than a polite FIN: what a crashing load balancer looks like to the client.
      req.socket.resetAndDestroy();
      return;
    case 'hang':
      return;
  }
}

function handleReadBack(ctx: Context, req: IncomingMessage, res: ServerResponse, identity: ProfileIdentity, query: string): void {
  if (req.method !== 'GET') return sendText(res, 405, 'use GET');
  const client = new URLSearchParams(query).get('client');
  if (client === null) return sendJson(res, 400, { error: 'the client query parameter is required' });
  if (client !== ctx.settings.clientCode) return sendJson(res, 404, { error: 'unknown client code' });
  const profile = ctx.simulator.profile(identity);
  if (!profile) return sendJson(res, 404, { error: 'profile not found' });
  const profileAttributes = Object.fromEntries([...profile].map(([name, a]) => [name, { value: a.value, modifiedAt: new Date(a.modifiedAt).toISOString() }]));
  sendJson(res, 200, { profileAttributes });
}

async function handleControl(ctx: Context, req: IncomingMessage, res: ServerResponse, name: string, query: string): Promise<void> {
  const { simulator } = ctx;
  const call = `${req.method ?? ''} ${name}`;
  switch (call) {
    case 'GET updates': {
      const updateQuery = parseUpdateQuery(new URLSearchParams(query));
      if (!updateQuery) return sendJson(res, 400, { error: 'from and limit must be non-negative integers' });
      return sendJson(res, 200, { total: simulator.updateCount, updates: simulator.updates(updateQuery) });
    }
    case 'GET stats':
      return sendJson(res, 200, simulator.stats());
    case 'POST reset':
      simulator.reset();
      res.writeHead(204).end();
      return;
    case 'GET faults':
      return sendJson(res, 200, simulator.faults);
    case 'POST faults': {
      const json = await readJson(req);
      if (!json) return sendJson(res, 400, { problems: ['body must be a JSON object'] });
      const problems = simulator.setFaults(json.value);
      return problems.length > 0 ? sendJson(res, 400, { problems }) : sendJson(res, 200, simulator.faults);
    }
    case 'GET batches': {
      const id = new URLSearchParams(query).get('id');
      if (id === null) return sendJson(res, 200, { batches: simulator.batches() });
      const batch = simulator.batch(id);
      return batch ? sendJson(res, 200, batch) : sendJson(res, 404, { error: `unknown batch id ${JSON.stringify(id)}` });
    }
    case 'POST profiles': {
      const json = await readJson(req);
      const parsed = json ? parseProfileSeeds(json.value) : { ok: false as const, problems: ['body must be JSON'] };
      if (!parsed.ok) return sendJson(res, 400, { problems: parsed.problems });
      simulator.seedProfiles(parsed.seeds);
      return sendJson(res, 200, { seeded: parsed.seeds.length });
    }
    default:
      return sendText(res, 404, 'not found');
  }
}

async function readJson(req: IncomingMessage): Promise<{ value: unknown } | undefined> {
  const body = await readBody(req, CONTROL_BODY_LIMIT);
  return body.tooLarge ? undefined : parseJson(body.text);
}

/** `from`, `limit` and an optional identity filter from `/_sandbox/updates?...`; undefined if malformed. */
function parseUpdateQuery(params: URLSearchParams): UpdateQuery | undefined {
  const query: UpdateQuery = {};
  for (const key of ['from', 'limit'] as const) {
    const text = params.get(key);
    if (text === null) continue;
    if (!/^\d+$/.test(text)) return undefined;
    query[key] = Number(text);
  }
  const thirdParty = params.get('mbox3rdPartyId');
  const pc = params.get('mboxPC');
  if (thirdParty !== null) query.identity = { kind: 'mbox3rdPartyId', value: thirdParty };
  else if (pc !== null) query.identity = { kind: 'mboxPC', value: pc };
  return query;
}
