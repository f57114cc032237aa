import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppOptions } from './app.js';
import { toNodeHandler } from './node-adapter.js';

export interface ServeOptions extends Omit<AppOptions, 'allowedHosts'> {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8477; 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  url: string;
  app: App;
  server: http.Server;
  close(): Promise<void>;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]'];

/** Starts the dashboard on host:port; resolves once it listens, with its URL. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const anyHost = host === '0.0.0.0' || host === '::';
  const app = createApp({
    ...options,
    // Bound to a specific address: answer only requests addressed to it (or to loopback names).
    allowedHosts: anyHost ? [] : [...new Set([host, ...(isLoopback(host) ? LOOPBACK : [])])],
  });
  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 0 }, toNodeHandler(app));
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8477, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    app,
    server,
    async close() {
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLoopback(host: string): boolean {
  return LOOPBACK.includes(host) || host.startsWith('127.');
}
