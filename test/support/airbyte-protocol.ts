/**
 * The Airbyte protocol messages the connector prints, as a JSON Schema subset of the Airbyte
 * protocol (airbyte_protocol.yaml), so every test checks output lines against the same shapes.
 */
import { Ajv } from 'ajv';
import { expect } from 'vitest';

const object = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties });

const MESSAGE_SHAPES: Record<string, unknown> = {
  SPEC: object(['type', 'spec'], { spec: object(['connectionSpecification'], { connectionSpecification: { type: 'object' } }) }),
  CONNECTION_STATUS: object(['type', 'connectionStatus'], {
    connectionStatus: object(['status'], { status: { enum: ['SUCCEEDED', 'FAILED'] }, message: { type: 'string' } }),
  }),
  CATALOG: object(['type', 'catalog'], {
    catalog: object(['streams'], {
      streams: {
        type: 'array',
        items: object(['name', 'json_schema', 'supported_sync_modes'], {
          name: { type: 'string' },
          json_schema: { type: 'object' },
          supported_sync_modes: { type: 'array', minItems: 1, items: { enum: ['full_refresh', 'incremental'] } },
        }),
      },
    }),
  }),
  LOG: object(['type', 'log'], {
    log: object(['level', 'message'], { level: { enum: ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] }, message: { type: 'string' } }),
  }),
  TRACE: object(['type', 'trace'], {
    trace: object(['type', 'emitted_at'], {
      type: { enum: ['ERROR', 'ESTIMATE', 'STREAM_STATUS', 'ANALYTICS'] },
      emitted_at: { type: 'number' },
      error: object(['message'], { message: { type: 'string' }, failure_type: { enum: ['system_error', 'config_error', 'transient_error'] } }),
    }),
  }),
  STATE: object(['type', 'state'], { state: { type: 'object' } }),
};

const ajv = new Ajv({ strict: false });
const validators = new Map(Object.entries(MESSAGE_SHAPES).map(([type, schema]) => [type, ajv.compile(schema as object)]));

/** Parses one stdout line and asserts it is a well-formed Airbyte message of `type`. */
export function protocolMessage<T = Record<string, unknown>>(line: string | undefined, type: string): T {
  expect(line, `expected a ${type} line`).toBeDefined();
  const message = JSON.parse(line as string) as { type?: unknown };
  expect(message.type).toBe(type);
  const validate = validators.get(type);
  expect(validate, `no shape for ${type}`).toBeDefined();
  expect(validate?.(message), JSON.stringify(validate?.errors)).toBe(true);
  return message as T;
}

/** The non-empty lines of some stdout text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
