/** Decoding with the reader schema narrowed to what the mapping reads, through a registry's writer schemas. */
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../../connector/adapters/avro/decoder.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { DecodeError } from '../../../connector/core/errors.js';
import { parsePath } from '../../../connector/core/mapping/paths.js';
import { projectReaderSchema } from '../../../connector/core/mapping/projection.js';

const TOPIC = 'orders';
const field = (name: string, type: unknown, extra: object = {}) => ({ name, type, ...extra });
const READER = parseAvroSchema({
  type: 'record',
  name: 'Order',
  fields: [field('id', 'string'), field('note', ['null', 'string'], { default: null }), field('total', 'int'), field('channel', 'string', { default: 'web' })],
});
/** An older writer: no channel (the reader's default fills it), an extra field the reader drops. */
const OLD_WRITER = parseAvroSchema({
  type: 'record',
  name: 'Order',
  fields: [field('id', 'string'), field('legacy', 'string'), field('note', ['null', 'string'], { default: null }), field('total', 'int')],
});
/** A writer the whole reader cannot read (total is text), although the narrowed one never reads total. */
const INCOMPATIBLE = parseAvroSchema({ type: 'record', name: 'Order', fields: [field('id', 'string'), field('total', 'string')] });

const narrowed = projectReaderSchema(
  READER,
  ['id', 'channel'].map((path) => (parsePath(path) as { segments: never[] }).segments),
);

/** Confluent framing: magic byte 0, the 4-byte schema id, the Avro body. */
function framed(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeInt32BE(id, 1);
  return Buffer.concat([head, body]);
}

function decoders() {
  const writers = new Map([
    [1, OLD_WRITER],
    [2, INCOMPATIBLE],
  ]);
  const registry = { schemaById: async (id: number) => writers.get(id) ?? Promise.reject(new Error(`unknown ${id}`)) };
  return {
    whole: createDecoder({ readerSchemas: new Map([[TOPIC, READER]]), registry }),
    narrow: createDecoder({ readerSchemas: new Map([[TOPIC, READER]]), registry, projections: new Map([[TOPIC, narrowed as NonNullable<typeof narrowed>]]) }),
  };
}

describe('narrowed decoding with writer schemas', () => {
  it('reads the fields the mapping uses, defaults included, as the whole reader does', async () => {
    expect(narrowed).toBeDefined();
    const { whole, narrow } = decoders();
    const bytes = framed(1, OLD_WRITER.toBuffer({ id: 'o-1', legacy: 'x', note: 'fragile', total: 12 }));
    const all = (await whole.decode(TOPIC, bytes)) as Record<string, unknown>;
    const read = (await narrow.decode(TOPIC, bytes)) as Record<string, unknown>;
    expect(read).toEqual({ id: all.id, channel: all.channel });
    expect(read).toEqual({ id: 'o-1', channel: 'web' });
  });

  it('still fails for a writer schema the whole reader schema cannot read', async () => {
    const { whole, narrow } = decoders();
    const bytes = framed(2, INCOMPATIBLE.toBuffer({ id: 'o-2', total: 'twelve' }));
    const failure = (decode: () => unknown) =>
      Promise.resolve()
        .then(decode)
        .then(
          () => undefined,
          (err: unknown) => err,
        );
    const [a, b] = await Promise.all([failure(() => whole.decode(TOPIC, bytes)), failure(() => narrow.decode(TOPIC, bytes))]);
    expect(a).toBeInstanceOf(DecodeError);
    expect(b).toBeInstanceOf(DecodeError);
    expect((b as Error).message).toBe((a as Error).message);
  });
});
