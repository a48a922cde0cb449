/** Reads one stdin line of `write`: a RECORD, a STATE, another message type, or something unusable. */

/** What one input line is, as far as `write` cares. */
export type InputMessage =
  | { kind: 'record'; stream: string; data: Record<string, unknown> }
  /** The whole STATE message, echoed as received once the records before it have settled. */
  | { kind: 'state'; message: Record<string, unknown> }
  /** A well-formed message of a type a destination does not act on. */
  | { kind: 'other'; type: string }
  | { kind: 'invalid'; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Classifies one line; undefined for a blank line, which Airbyte streams may contain. */
export function parseInputLine(line: string): InputMessage | undefined {
  if (line.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string') {
    return { kind: 'invalid', reason: 'not an Airbyte message: expected a JSON object with a "type"' };
  }
  switch (parsed.type) {
    case 'RECORD': {
      const record = parsed.record;
      if (!isObject(record) || typeof record.stream !== 'string' || !isObject(record.data)) {
        return { kind: 'invalid', reason: 'RECORD needs "record": {"stream": "<topic>", "data": {...}}' };
      }
      return { kind: 'record', stream: record.stream, data: record.data };
    }
    case 'STATE':
      if (!isObject(parsed.state)) return { kind: 'invalid', reason: 'STATE needs a "state" object' };
      return { kind: 'state', message: parsed };
    default:
      return { kind: 'other', type: parsed.type };
  }
}
