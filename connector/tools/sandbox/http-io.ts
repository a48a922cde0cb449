/** Small node:http helpers for the sandbox: bounded body reading and replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads the whole body but keeps at most `limit` bytes, so an oversized upload cannot exhaust memory. */
export async function readBody(req: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const { bytes } = await readRawBody(req, limit);
  return { text: bytes?.toString('utf8') ?? '', tooLarge: bytes === undefined };
}

/** Reads the whole body and counts its size; `bytes` is undefined when it was over `limit` (and not kept). */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer | undefined; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return { bytes: size <= limit ? Buffer.concat(chunks, size) : undefined, size };
}

/** Sends a plain-text answer. */
export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/** Parses a JSON request body, or returns undefined when it is not JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
