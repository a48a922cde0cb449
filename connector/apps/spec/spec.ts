/** `spec`: the Airbyte SPEC message, built from spec.json. */
import { loadSpec, type ConnectorSpec } from '../../adapters/config/spec.js';

/** The SPEC message as one protocol line (no trailing newline). */
export function specMessage(spec: ConnectorSpec = loadSpec()): string {
  return JSON.stringify({ type: 'SPEC', spec });
}
