import { Query } from '../query.js';
import { HttpError } from '../http-error.js';
import type { Route } from '../route.js';
import type { LiveEvent } from '../run-handle.js';

export interface LiveRoute extends Route {
  /** Ends every open stream (server shutdown). */
  close(): void;
}

/**
 * GET /api/live?run=ID — Server-Sent Events for one run: `state` (queued, indexing with progress,
 * ready, error) and then `update` each time appended data was read. Connecting starts opening
 * the run and keeps it watched (polled for new data) while connected.
 */
export function liveRoute(options: { maxStreamsPerIp: number; heartbeatMs?: number }): LiveRoute {
  const perIp = new Map<string, number>();
  const closers = new Set<() => void>();
  const encoder = new TextEncoder();
  return {
    path: '/api/live',
    close() {
      for (const close of [...closers]) close();
    },
    async handle(c) {
      const query = new Query(c.url, ['run']);
      const handle = c.registry.handle(query.runId());
      const streams = perIp.get(c.ip) ?? 0;
      if (streams >= options.maxStreamsPerIp)
        throw new HttpError(429, `at most ${options.maxStreamsPerIp} live streams per client`, {
          hint: 'close other dashboard tabs',
        });
      perIp.set(c.ip, streams + 1);
      let cleanup = (): void => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const write = (text: string): void => {
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              cleanup();
            }
          };
          const send = (event: LiveEvent): void =>
            write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
          write('retry: 1000\n\n');
          send({ type: 'state', data: handle.stateEvent() });
          const unsubscribe = handle.subscribe(send);
          if (handle.state !== 'ready') handle.open().catch(() => {});
          const heartbeat = setInterval(() => write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
          heartbeat.unref();
          let done = false;
          cleanup = () => {
            if (done) return;
            done = true;
            unsubscribe();
            clearInterval(heartbeat);
            closers.delete(close);
            const left = (perIp.get(c.ip) ?? 1) - 1;
            if (left > 0) perIp.set(c.ip, left);
            else perIp.delete(c.ip);
          };
          const close = (): void => {
            cleanup();
            try {
              controller.close();
            } catch {
              // already closed by the client
            }
          };
          closers.add(close);
        },
        cancel() {
          cleanup();
        },
      });
      return new Response(body, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
        },
      });
    },
  };
}
