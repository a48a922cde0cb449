/**
 * Turns Kafka message values into decoded Avro values (the `values.ts` contract), either plain
 * Avro read with the topic's reader schema or the Confluent wire format (magic byte 0, 4-byte
 * big-endian schema id, Avro body) resolved against the registry's writer schema.
 */
import type { Type } from 'avsc';
import { DecodeError, RegistryRejectedError, type EventOrigin } from '../errors.js';
import type { SchemaRegistryConfig } from '../config/types.js';
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './registry.js';

export interface DecoderOptions {
  /** Reader schema per topic (the mapping's `schema`). Required per topic without a registry. */
  readerSchemas: ReadonlyMap<string, Type>;
  /** With a registry, every value must carry the Confluent framing. */
  registry?: SchemaRegistryConfig;
  registryOptions?: RegistryClientOptions;
}

/** Decodes message values of the configured topics. */
export interface Decoder {
  /**
   * Decodes one message value. Returns the value synchronously whenever the schema is already
   * known (always for plain Avro); returns a promise only while a writer schema is being fetched.
   * Throws (or rejects with) DecodeError for bad bytes; RegistryUnavailableError is retryable.
   */
  decode(topic: string, bytes: Buffer, origin?: EventOrigin): unknown;
  /** Releases the registry connections. */
  close(): Promise<void>;
}

const MAGIC = 0;
const HEADER_BYTES = 5;

type Reader = (payload: Buffer, origin: EventOrigin) => unknown;

function readWith(type: Type, resolver?: ReturnType<Type['createResolver']>): Reader {
  return (payload, origin) => {
    try {
      return type.fromBuffer(payload, resolver);
    } catch (err) {
      throw new DecodeError(origin, (err as Error).message, { cause: err });
    }
  };
}

/** Creates a decoder for the given reader schemas and optional registry. */
export function createDecoder(options: DecoderOptions): Decoder {
  const { readerSchemas } = options;
  const registry: RegistryClient | undefined = options.registry
    ? createRegistryClient(options.registry, options.registryOptions)
    : undefined;
  const plainReaders = new Map<string, Reader>();
  for (const [topic, type] of readerSchemas) plainReaders.set(topic, readWith(type));
  /** `topic` → schema id → reader; filled as writer schemas arrive. */
  const framedReaders = new Map<string, Map<number, Reader>>();

  function readerFor(topic: string, id: number, writer: Type): Reader {
    const reader = readerSchemas.get(topic);
    if (!reader) return readWith(writer);
    try {
      return readWith(reader, reader.createResolver(writer));
    } catch (err) {
      // Incompatible schemas stay incompatible: remember the verdict instead of re-resolving.
      const reason = `writer schema id ${id} cannot be read with the reader schema: ${(err as Error).message}`;
      return (_payload, origin) => {
        throw new DecodeError(origin, reason, { cause: err });
      };
    }
  }

  function decodeFramed(client: RegistryClient, topic: string, bytes: Buffer, origin: EventOrigin): unknown {
    if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC) {
      throw new DecodeError(origin, 'not in the Confluent wire format (magic byte 0 + 4-byte schema id)');
    }
    const id = bytes.readInt32BE(1);
    const payload = bytes.subarray(HEADER_BYTES);
    let byId = framedReaders.get(topic);
    const known = byId?.get(id);
    if (known) return known(payload, origin);
    if (!byId) {
      byId = new Map();
      framedReaders.set(topic, byId);
    }
    const readers = byId;
    return client.schemaById(id).then(
      (writer) => {
        const read = readers.get(id) ?? readerFor(topic, id, writer);
        readers.set(id, read);
        return read(payload, origin);
      },
      (err: unknown) => {
        if (err instanceof RegistryRejectedError) {
          throw new DecodeError(origin, `unknown writer schema id ${id}: ${err.message}`, { cause: err });
        }
        throw err;
      },
    );
  }

  return {
    decode(topic, bytes, origin = { topic }) {
      if (registry) return decodeFramed(registry, topic, bytes, origin);
      const read = plainReaders.get(topic);
      if (!read) throw new DecodeError(origin, `no reader schema for topic ${topic} and no schema registry configured`);
      return read(bytes, origin);
    },
    close: async () => {
      await registry?.close();
    },
  };
}
