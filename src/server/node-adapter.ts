import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { App } from './app.js';

/**
 * Serves an `App` on a Node HTTP server: the request becomes a fetch `Request` (body streamed,
 * aborted when the client goes away), the `Response` is streamed back (SSE included) and its
 * stream cancelled when the connection closes.
 */
export function toNodeHandler(app: App): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(app, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { status: 500, message: 'internal error' } }));
      } else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

async function handle(app: App, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const rawTarget = req.url ?? '/';
  let url: URL;
  try {
    url = new URL(rawTarget, `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
    res.end(JSON.stringify({ error: { status: 400, message: 'malformed request target or Host header' } }));
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const request = new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal: abort.signal,
    // @ts-expect-error Node's fetch needs `duplex` for a streamed body; the DOM typings do not know it
    duplex: 'half',
  });
  const response = await app.fetch(request, { ip: req.socket.remoteAddress ?? 'unknown', rawTarget });
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  res.writeHead(response.status, outHeaders);
  if (!response.body) {
    res.end();
    if (hasBody && !req.complete) req.destroy();
    return;
  }
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
  const reader = response.body.getReader();
  abort.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
      if (res.destroyed) break;
    }
  } finally {
    res.end();
  }
}

/** Until `res` drains or closes; removes both listeners either way (a large download waits often). */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
