import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a server gets to answer `shutdown` before it is killed (cleanup, not an assertion). */
const SHUTDOWN_GRACE_MS = 2000;

/** A JSON-RPC message as the Language Server Protocol frames it. */
interface Message {
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { message: string };
}

/** One `textDocument/publishDiagnostics` diagnostic, the parts the tests read. */
export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
  source?: string;
}

/** A minimal LSP client over a server's stdio (Content-Length framing), enough to open documents and read diagnostics. */
export interface LspClient {
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string, params: unknown): void;
  /** Resolves with the first diagnostics published for `uri` that satisfy `accept`. */
  diagnostics(uri: string, accept: (diagnostics: Diagnostic[]) => boolean): Promise<Diagnostic[]>;
  /** Asks the server to shut down, then kills the process if it has not exited. */
  close(): Promise<void>;
}

/**
 * Spawns `command` as a language server on stdio. `configuration` answers the server's
 * `workspace/configuration` requests (one value per asked section); other requests get null.
 */
export function startLspServer(command: string, args: string[], configuration: (section: string) => unknown): LspClient {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { stdio: 'pipe' });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const published = new Map<string, Diagnostic[]>();
  const waiters: { uri: string; accept: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  let buffer = Buffer.alloc(0);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  function send(message: Message): void {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
    child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    child.stdin.write(body);
  }

  function handle(message: Message): void {
    if (message.method === undefined && typeof message.id === 'number') {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
      return;
    }
    if (message.id !== undefined) {
      const items = (message.params as { items?: { section?: string }[] } | undefined)?.items ?? [];
      const result = message.method === 'workspace/configuration' ? items.map((item) => configuration(item.section ?? '')) : null;
      send({ id: message.id, result });
      return;
    }
    if (message.method === 'textDocument/publishDiagnostics') {
      const { uri, diagnostics } = message.params as { uri: string; diagnostics: Diagnostic[] };
      published.set(uri, diagnostics);
      for (const waiter of [...waiters]) {
        if (waiter.uri === uri && waiter.accept(diagnostics)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(diagnostics);
        }
      }
    }
  }

  child.stdout.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      const start = headerEnd + 4;
      if (buffer.length < start + length) return;
      const body = buffer.subarray(start, start + length).toString('utf8');
      buffer = buffer.subarray(start + length);
      handle(JSON.parse(body) as Message);
    }
  });

  return {
    request(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ id, method, params });
      });
    },
    notify(method, params) {
      send({ method, params });
    },
    diagnostics(uri, accept) {
      const already = published.get(uri);
      if (already && accept(already)) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ uri, accept, resolve }));
    },
    async close() {
      if (child.exitCode === null) {
        // A server that ignores shutdown must not outlive the test.
        const stop = this.request('shutdown', null).then(() => this.notify('exit', null));
        await Promise.race([stop.then(() => exited), sleep(SHUTDOWN_GRACE_MS)]).catch(() => undefined);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
