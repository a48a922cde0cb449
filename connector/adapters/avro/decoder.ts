/**
 * Turns Kafka message values into decoded Avro values (the `values.ts` contract), either plain
 * Avro read with the topic's reader schema or the Confluent wire format (magic byte 0, 4-byte
 * big-endian schema id, Avro body) resolved against the registry's writer schema.
 */
import type { Type } from 'avsc';
import { DecodeError, RegistryRejectedError, type EventOrigin } from '../../core/errors.js';
// Before any resolver is created: resolvers copy the array and map readers when they are made.
import './bounded-blocks.js';
import { FRAMING_BYTES, framedFailure, incompatibleFailure, plainFailure, unframedFailure, unknownIdFailure } from './failure-reasons.js';

export interface DecoderOptions {
  /** Reader schema per topic (the mapping's `schema`). Required per topic without a registry. */
  readerSchemas: ReadonlyMap<string, Type>;
  /** Writer schemas by id (a schema registry); with one, every value must carry the Confluent framing. */
  registry?: WriterSchemas;
  /**
   * Per topic, the reader schema narrowed to what the mapping reads (`projectedSchemasOf`):
   * values are read with it, skipping the other fields' bytes. Compatibility and failures are
   * still judged against the whole reader schema.
   */
  projections?: ReadonlyMap<string, Type>;
}

/** Where writer schemas come from, by the id the Confluent framing carries. */
export interface WriterSchemas {
  /** Rejects with RegistryRejectedError for an unknown id, with a retryable error when unreachable. */
  schemaById(id: number): Promise<Type>;
}

/** Decodes message values of the configured topics. */
export interface Decoder {
  /**
   * Decodes one message value. Returns the value synchronously whenever the schema is already
   * known (always for plain Avro); returns a promise only while a writer schema is being fetched.
   * Throws (or rejects with) DecodeError for bad bytes; RegistryUnavailableError is retryable.
   */
  decode(topic: string, bytes: Buffer, origin?: EventOrigin): unknown;
}

const MAGIC = 0;

type Reader = (payload: Buffer, origin: EventOrigin) => unknown;

/**
 * Reads with `type` (and a resolver from the writer schema); on failure `explain` says why in the
 * user's terms, so only failures pay for the diagnosis.
 */
function readWith(type: Type, explain: (payload: Buffer) => string, resolver?: ReturnType<Type['createResolver']>): Reader {
  return (payload, origin) => {
    try {
      return type.fromBuffer(payload, resolver);
    } catch (err) {
      throw new DecodeError(origin, explain(payload), { cause: err });
    }
  };
}

/**
 * Reads with the narrowed reader schema resolved against `writer`, or with `whole` when there is
 * none. It holds a subset of the fields of a reader that resolves, so it resolves too; should it
 * not, the whole reader reads the same values for the mapping.
 */
function narrowedOr(narrowed: Type | undefined, writer: Type, explain: (payload: Buffer) => string, whole: () => Reader): Reader {
  if (narrowed) {
    try {
      return readWith(narrowed, explain, narrowed.createResolver(writer));
    } catch {
      // Falls back to the whole reader below.
    }
  }
  return whole();
}

/** Creates a decoder for the given reader schemas and optional registry. */
export function createDecoder(options: DecoderOptions): Decoder {
  const { readerSchemas } = options;
  const { registry, projections } = options;
  const plainReaders = new Map<string, Reader>();
  for (const [topic, type] of readerSchemas) {
    const explain = (payload: Buffer) => plainFailure(type, payload);
    plainReaders.set(
      topic,
      narrowedOr(projections?.get(topic), type, explain, () => readWith(type, explain)),
    );
  }
  /** `topic` → schema id → reader; filled as writer schemas arrive. */
  const framedReaders = new Map<string, Map<number, Reader>>();

  function readerFor(topic: string, id: number, writer: Type): Reader {
    // The bytes were written with the writer schema, so that is what a failure is explained against.
    const explain = (payload: Buffer) => framedFailure(writer, id, payload);
    const reader = readerSchemas.get(topic);
    if (!reader) return readWith(writer, explain);
    let resolver: ReturnType<Type['createResolver']>;
    try {
      resolver = reader.createResolver(writer);
    } catch (err) {
      // Incompatible schemas stay incompatible: remember the verdict instead of re-resolving.
      const reason = incompatibleFailure(reader, writer, id);
      return (_payload, origin) => {
        throw new DecodeError(origin, reason, { cause: err });
      };
    }
    return narrowedOr(projections?.get(topic), writer, explain, () => readWith(reader, explain, resolver));
  }

  function decodeFramed(client: WriterSchemas, topic: string, bytes: Buffer, origin: EventOrigin): unknown {
    if (bytes.length < FRAMING_BYTES || bytes[0] !== MAGIC) {
      throw new DecodeError(origin, unframedFailure(bytes, readerSchemas.get(topic)));
    }
    const id = bytes.readInt32BE(1);
    const payload = bytes.subarray(FRAMING_BYTES);
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
          throw new DecodeError(origin, unknownIdFailure(bytes, id, readerSchemas.get(topic), err.message), { cause: err });
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
  };
}
