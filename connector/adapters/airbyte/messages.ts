/**
 * The Airbyte protocol messages the connector prints on stdout, one JSON object per line. Only
 * the fields the connector fills are typed; STATE messages are echoed exactly as they arrived.
 */
import type { JsonSchemaNode } from './json-schema.js';

/** Outcome of `check`. */
export type ConnectionStatus = 'SUCCEEDED' | 'FAILED';

/** Levels an Airbyte LOG message may carry. */
export type LogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';

/** Airbyte's split of fatal errors: the user's setup (`config_error`) or the connector (`system_error`). */
export type FailureType = 'config_error' | 'system_error';

/** The sync modes every stream of this connector supports. */
export const SYNC_MODES = ['full_refresh', 'incremental'] as const;

/** One stream of a CATALOG: a mapped topic and the JSON Schema of its events. */
export interface AirbyteStream {
  name: string;
  json_schema: JsonSchemaNode;
  supported_sync_modes: (typeof SYNC_MODES)[number][];
}

/** `{"type":"CONNECTION_STATUS",...}` */
export interface ConnectionStatusMessage {
  type: 'CONNECTION_STATUS';
  connectionStatus: { status: ConnectionStatus; message: string };
}

/** `{"type":"CATALOG",...}` */
export interface CatalogMessage {
  type: 'CATALOG';
  catalog: { streams: AirbyteStream[] };
}

/** `{"type":"LOG",...}` */
export interface LogMessage {
  type: 'LOG';
  log: { level: LogLevel; message: string };
}

/** `{"type":"TRACE","trace":{"type":"ERROR",...}}`: the run failed as a whole. */
export interface TraceErrorMessage {
  type: 'TRACE';
  trace: {
    type: 'ERROR';
    emitted_at: number;
    error: { message: string; failure_type: FailureType };
  };
}

/** Every message this connector builds (STATE echoes are passed through untouched). */
export type OutgoingMessage = ConnectionStatusMessage | CatalogMessage | LogMessage | TraceErrorMessage;

/** The CONNECTION_STATUS message of `check`. */
export function connectionStatusMessage(status: ConnectionStatus, message: string): ConnectionStatusMessage {
  return { type: 'CONNECTION_STATUS', connectionStatus: { status, message } };
}

/** The CATALOG message of `discover`. */
export function catalogMessage(streams: AirbyteStream[]): CatalogMessage {
  return { type: 'CATALOG', catalog: { streams } };
}

/** A LOG message: how `write` reports a line it could not use or a record that failed. */
export function logMessage(level: LogLevel, message: string): LogMessage {
  return { type: 'LOG', log: { level, message } };
}

/** A TRACE ERROR message: how a command says it could not do its job at all. */
export function traceErrorMessage(message: string, failureType: FailureType, emittedAt = Date.now()): TraceErrorMessage {
  return { type: 'TRACE', trace: { type: 'ERROR', emitted_at: emittedAt, error: { message, failure_type: failureType } } };
}

/** One message as a protocol line, without the trailing newline. */
export function protocolLine(message: OutgoingMessage | Record<string, unknown>): string {
  return JSON.stringify(message);
}
