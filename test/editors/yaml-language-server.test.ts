import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../support/delivery-harness.js';
import { startLspServer, type Diagnostic, type LspClient } from '../support/lsp-client.js';

// The real server editors run (VS Code's YAML extension, Neovim, Helix...), driven over LSP stdio.
const SERVER = join(ROOT, 'node_modules', 'yaml-language-server', 'bin', 'yaml-language-server');
const SCHEMA_URL = pathToFileURL(join(ROOT, 'schemas', 'mapping.schema.json')).href;
const YAML_SETTINGS = { validate: true, hover: true, completion: true, schemaStore: { enable: false } };

let server: LspClient | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Starts the server, opens `text` as a mapping file and returns the diagnostics once the schema has been applied. */
async function diagnosticsOf(text: string, expectedCount: number): Promise<Diagnostic[]> {
  server = startLspServer(process.execPath, [SERVER, '--stdio'], (section) => (section === 'yaml' ? YAML_SETTINGS : null));
  await server.request('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(ROOT).href,
    capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: {} } },
  });
  server.notify('initialized', {});
  server.notify('workspace/didChangeConfiguration', { settings: { yaml: YAML_SETTINGS } });
  const uri = pathToFileURL(join(ROOT, 'examples', 'broken-mapping.yaml')).href;
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  return server.diagnostics(uri, (d) => d.length >= expectedCount);
}

/** `line: message` with 1-based lines, as an editor shows them. */
const shown = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`).sort();

describe('mapping.schema.json in the real yaml-language-server', () => {
  it('reports an unknown key, a wrong type, an unknown transform and a missing identity on their lines', async () => {
    const text = `# yaml-language-server: $schema=${SCHEMA_URL}
version: 1
mappings:
  - topic: crm.customer.updated
    schema: ../schemas/crm-customer-updated.avsc
    attributes:
      tier: customer.tier
      email: { path: customer.email, transform: [trim, shout] }
      total: { path: customer.lifetimeValue, transform: { round: two } }
    filter: { path: eventType, in: [CREATED] }
`;
    const diagnostics = await diagnosticsOf(text, 4);
    expect(shown(diagnostics)).toEqual([
      '10: Property filter is not allowed.',
      '4: Missing property "identity".',
      '8: Value is not accepted. Valid values: "trim", "lowercase", "uppercase", "sha256", "iso8601", "epoch_millis", "date", "string", "json".',
      '9: Incorrect type. Expected "integer".',
    ]);
  });
});
