/**
 * A Confluent Schema Registry client for the REST subset the connector needs: writer schemas by
 * id (cached forever, ids are immutable), the versions of a subject (for the static check and
 * the schema-evolution check of `check`), and registering a schema (for `produce`).
 */
import type { Type } from 'avsc';
import { Agent, request } from 'undici';
import { systemClock } from '../../system/clock.js';
import { systemRandom } from '../../system/random.js';
import { RegistryRejectedError, RegistryUnavailableError } from '../../core/errors.js';
import { isRetryableStatus } from '../../core/http-status.js';
import { retrying, RetryPolicy } from '../../core/retry.js';
import type { SchemaRegistryConfig } from '../../core/config.js';
import { parseAvroSchema } from '../../core/avro-types.js';

export interface RegistryClientOptions {
  /** Tries per request before the registry counts as unavailable. */
  attempts?: number;
  /** First pause between tries; doubles each time. */
  backoffMs?: number;
  timeoutMs?: number;
}

/** One registered version of a subject. */
export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  type: Type;
}

/** The registry calls the connector makes. */
export interface RegistryClient {
  /** Where the registry is, without credentials (safe for messages). */
  readonly location: string;
  /** The writer schema registered under `id`; fetched once, then served from the cache. */
  schemaById(id: number): Promise<Type>;
  /** The latest version of a subject (e.g. `<topic>-value`), not cached. */
  latestVersion(subject: string): Promise<SubjectVersion>;
  /** The version numbers registered under a subject, oldest first; empty when the registry has no such subject. */
  versions(subject: string): Promise<number[]>;
  /** One registered version of a subject, not cached. */
  version(subject: string, version: number): Promise<SubjectVersion>;
  /** The id of `type`'s schema under `subject`, registering it first when it is new there (the registry dedupes). */
  register(subject: string, type: Type): Promise<number>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}

interface RegistrySchemaReply {
  schema?: unknown;
  schemaType?: unknown;
  id?: unknown;
  version?: unknown;
}

/** The subject of a topic's value schema under the registry's default TopicNameStrategy. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The registry's URL without the credentials it may carry, fit for logs and messages. */
export function registryLocation(url: string): string {
  const base = new URL(url);
  base.username = '';
  base.password = '';
  return base.toString().replace(/\/+$/, '');
}

/** Creates a registry client; credentials come from the config or from the URL's user info. */
export function createRegistryClient(config: SchemaRegistryConfig, options: RegistryClientOptions = {}): RegistryClient {
  const attempts = options.attempts ?? 4;
  const backoffMs = options.backoffMs ?? 200;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = new URL(config.url);
  const username = config.username ?? decodeURIComponent(base.username);
  const password = config.password ?? decodeURIComponent(base.password);
  const location = registryLocation(config.url);
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (username) headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const byId = new Map<number, Promise<Type>>();

  const retry = new RetryPolicy({ initialMs: backoffMs, maxMs: backoffMs * 2 ** Math.max(0, attempts - 2), maxAttempts: attempts, random: systemRandom });

  /**
   * One GET (or POST of `json`); rejects retryable when the registry is unreachable or asks for
   * patience, permanent otherwise; `missing` is the answer to a 404, when the caller has one.
   */
  async function fetchOnce(path: string, options: { missing?: unknown; json?: unknown } = {}): Promise<unknown> {
    const { missing, json } = options;
    let status: number;
    let body: string;
    try {
      const res = await request(
        `${location}${path}`,
        json === undefined
          ? { method: 'GET', headers, dispatcher: agent }
          : {
              method: 'POST',
              headers: { ...headers, 'content-type': 'application/vnd.schemaregistry.v1+json' },
              body: JSON.stringify(json),
              dispatcher: agent,
            },
      );
      status = res.statusCode;
      body = await res.body.text();
    } catch (err) {
      throw new RegistryUnavailableError(`schema registry ${location} unavailable for ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(body) as unknown;
      } catch {
        throw new RegistryRejectedError(`schema registry ${location} sent invalid JSON for ${path}`);
      }
    }
    if (status === 404 && missing !== undefined) return missing;
    if (isRetryableStatus(status)) throw new RegistryUnavailableError(`schema registry ${location} unavailable for ${path}: HTTP ${status}`);
    throw new RegistryRejectedError(`schema registry ${location} answered HTTP ${status} for ${path}: ${body.slice(0, 200)}`);
  }

  async function getJson(path: string, options: { missing?: unknown; json?: unknown } = {}): Promise<unknown> {
    try {
      return await retrying(() => fetchOnce(path, options), retry, systemClock);
    } catch (err) {
      if (!(err instanceof RegistryUnavailableError) || attempts === 1) throw err;
      throw new RegistryUnavailableError(`${err.message} (after ${attempts} tries)`, { cause: err });
    }
  }

  function toType(reply: RegistrySchemaReply, what: string): Type {
    if (reply.schemaType !== undefined && reply.schemaType !== 'AVRO') {
      throw new RegistryRejectedError(`${what} is a ${String(reply.schemaType)} schema, not Avro`);
    }
    if (typeof reply.schema !== 'string') throw new RegistryRejectedError(`${what} has no schema text`);
    try {
      return parseAvroSchema(JSON.parse(reply.schema));
    } catch (err) {
      throw new RegistryRejectedError(`${what} is not a usable Avro schema: ${(err as Error).message}`, { cause: err });
    }
  }

  async function subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const reply = (await getJson(`/subjects/${encodeURIComponent(subject)}/versions/${version}`)) as RegistrySchemaReply;
    if (typeof reply.id !== 'number' || typeof reply.version !== 'number') {
      throw new RegistryRejectedError(`subject ${subject}: the registry reply has no id/version`);
    }
    return { subject, version: reply.version, id: reply.id, type: toType(reply, `subject ${subject} version ${reply.version}`) };
  }

  return {
    location,
    schemaById(id) {
      let pending = byId.get(id);
      if (!pending) {
        pending = getJson(`/schemas/ids/${id}`).then((reply) => toType(reply as RegistrySchemaReply, `schema id ${id}`));
        // Failures are not cached: an unavailable registry must be asked again on the next try.
        pending.catch(() => byId.delete(id));
        byId.set(id, pending);
      }
      return pending;
    },
    latestVersion: (subject) => subjectVersion(subject, 'latest'),
    async versions(subject) {
      // The registry answers 404 (error 40401) for a subject it does not know: no versions.
      const reply = await getJson(`/subjects/${encodeURIComponent(subject)}/versions`, { missing: [] });
      if (!Array.isArray(reply) || !reply.every((v) => Number.isInteger(v))) {
        throw new RegistryRejectedError(`subject ${subject}: the registry's list of versions is not a list of numbers`);
      }
      return (reply as number[]).toSorted((a, b) => a - b);
    },
    version: (subject, version) => subjectVersion(subject, version),
    async register(subject, type) {
      // Registering the same schema again answers the id it already has, so this is also the look-up;
      // exportAttrs keeps logical types (and their precision, scale) in the registered text.
      const reply = (await getJson(`/subjects/${encodeURIComponent(subject)}/versions`, {
        json: { schema: JSON.stringify(type.schema({ exportAttrs: true })) },
      })) as RegistrySchemaReply;
      if (typeof reply.id !== 'number') throw new RegistryRejectedError(`subject ${subject}: the registry's reply to registering has no id`);
      return reply.id;
    },
    close: () => agent.close(),
  };
}
