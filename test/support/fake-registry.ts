import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The Confluent Schema Registry REST subset the connector reads, served from memory. */
export interface FakeRegistry {
  url: string;
  /** Requests received, by path. */
  hits: Map<string, number>;
  /** Authorization headers received, in order. */
  authorizations: (string | undefined)[];
  /** Answers the next `n` requests with this status instead of the schema. */
  failNext(n: number, status: number): void;
  /** Registers `schema` as `version` of `subject` (1 by default); the highest version is the latest. */
  register(subject: string, id: number, schema: unknown, version?: number): void;
  /** The schema text registered under `id` (by `register` or a POST), or undefined. */
  schemaById(id: number): string | undefined;
  close(): Promise<void>;
}

function reply(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
  res.end(JSON.stringify(body));
}

/** Starts a registry on an ephemeral port; `expectAuth` makes it answer 401 to other credentials. */
export async function startFakeRegistry(expectAuth?: string): Promise<FakeRegistry> {
  const byId = new Map<number, string>();
  const subjects = new Map<string, Map<number, { id: number; version: number; schema: string }>>();
  const hits = new Map<string, number>();
  const authorizations: (string | undefined)[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 500 };

  const register = (subject: string, id: number, text: string, version = 1): void => {
    byId.set(id, text);
    const versions = subjects.get(subject) ?? new Map();
    versions.set(version, { id, version, schema: text });
    subjects.set(subject, versions);
  };
  /** The highest version registered under `subject`, the registry's "latest". */
  const latestOf = (subject: string) => {
    const versions = subjects.get(subject);
    return versions && versions.get(Math.max(...versions.keys()));
  };
  /** `POST /subjects/<subject>/versions`: the id the schema already has under the subject, or a new one. */
  const registerPosted = async (req: IncomingMessage, subject: string): Promise<{ id: number }> => {
    let body = '';
    for await (const chunk of req as AsyncIterable<Buffer>) body += chunk.toString('utf8');
    const text = (JSON.parse(body) as { schema: string }).schema;
    const same = latestOf(subject);
    if (same?.schema === text) return { id: same.id };
    const id = Math.max(0, ...byId.keys()) + 1;
    register(subject, id, text, (same?.version ?? 0) + 1);
    return { id };
  };

  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    authorizations.push(req.headers.authorization);
    if (failures.left > 0) {
      failures.left -= 1;
      reply(res, failures.status, { error_code: failures.status, message: 'injected failure' });
      return;
    }
    if (expectAuth !== undefined && req.headers.authorization !== expectAuth) {
      reply(res, 401, { error_code: 401, message: 'Unauthorized' });
      return;
    }
    const byIdMatch = /^\/schemas\/ids\/(\d+)$/.exec(path);
    if (byIdMatch) {
      const schema = byId.get(Number(byIdMatch[1]));
      if (schema === undefined) reply(res, 404, { error_code: 40403, message: 'Schema not found' });
      else reply(res, 200, { schema });
      return;
    }
    const versionsMatch = /^\/subjects\/([^/]+)\/versions$/.exec(path);
    if (versionsMatch && req.method === 'POST') {
      registerPosted(req, decodeURIComponent(versionsMatch[1] as string)).then(
        (answer) => reply(res, 200, answer),
        () => reply(res, 422, { error_code: 42201, message: 'Invalid schema' }),
      );
      return;
    }
    const subjectMatch = /^\/subjects\/([^/]+)\/versions(?:\/(latest|\d+))?$/.exec(path);
    if (subjectMatch) {
      const versions = subjects.get(decodeURIComponent(subjectMatch[1] as string));
      if (!versions) {
        reply(res, 404, { error_code: 40401, message: 'Subject not found' });
        return;
      }
      const numbers = [...versions.keys()].sort((a, b) => a - b);
      const asked = subjectMatch[2];
      if (asked === undefined) {
        reply(res, 200, numbers);
        return;
      }
      const entry = versions.get(asked === 'latest' ? (numbers.at(-1) as number) : Number(asked));
      if (!entry) reply(res, 404, { error_code: 40402, message: 'Version not found' });
      else reply(res, 200, { subject: decodeURIComponent(subjectMatch[1] as string), ...entry });
      return;
    }
    reply(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    authorizations,
    failNext(n, status) {
      failures = { left: n, status };
    },
    register(subject, id, schema, version = 1) {
      register(subject, id, JSON.stringify(schema), version);
    },
    schemaById: (id) => byId.get(id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro body. */
export function framed(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}
