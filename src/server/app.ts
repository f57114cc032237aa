import fs from 'node:fs';
import path from 'node:path';
import type { FleetTarget } from '../fleet/clickhouse.js';
import { compose, type ConnectionInfo, type Context, type Middleware } from './context.js';
import { FleetSource } from './fleet-source.js';
import { HttpError } from './http-error.js';
import { bodyLimit } from './middleware/body-limit.js';
import { errorHandler } from './middleware/error-handler.js';
import { rateLimit } from './middleware/rate-limit.js';
import { hostGuard, readOnly, requestGuard } from './middleware/request-guard.js';
import { securityHeaders } from './middleware/security-headers.js';
import type { Route } from './route.js';
import { RunRegistry } from './run-registry.js';
import { binsRoute } from './routes/bins.js';
import { chartFileRoute } from './routes/chart-file.js';
import { exportRoute } from './routes/export.js';
import { fleetRoutes } from './routes/fleet.js';
import { heatmapRoute } from './routes/heatmap.js';
import { liveRoute } from './routes/live.js';
import { positionsRoute } from './routes/positions.js';
import { runsRoute } from './routes/runs.js';
import { sampleRoute } from './routes/sample.js';
import { staticFiles } from './routes/static-files.js';
import { summaryRoute } from './routes/summary.js';

export interface AppOptions {
  /** The directory (or log file) whose runs are served; none when only a fleet is. */
  root?: string;
  /** A ClickHouse fleet shown on the fleet page (`serve --clickhouse URL`). */
  fleet?: FleetTarget;
  /** Built front end; default: the package's web/dist. */
  webRoot?: string;
  /** Host names requests may be addressed to (DNS-rebinding guard); empty: any. */
  allowedHosts?: readonly string[];
  /** Largest request body accepted (default 16 KiB: the API takes no bodies). */
  maxBodyBytes?: number;
  /** Longest request target (default 4096). */
  maxTargetLength?: number;
  /** Per-client rate limit (default bursts of 600, 200 requests/s sustained). */
  rateLimit?: { burst: number; perSecond: number };
  /** Live streams per client (default 32). */
  maxStreamsPerIp?: number;
  /** How often watched runs look for appended data (default 250 ms). */
  pollMs?: number;
  /** Runs kept open at once (default 3; see RunRegistryOptions). */
  maxOpenRuns?: number;
  /** A run nobody watches or asks anything of for this long is closed (default 10 min). */
  idleCloseMs?: number;
  /** Where run indexes are cached: a directory (default: $RUNLENS_CACHE_DIR or $XDG_CACHE_HOME/runlens), or false. */
  cache?: string | false;
  /** Parts large JSON lines files are read in, each charted as soon as it is indexed (default 256 MB). */
  chunkBytes?: number;
  /** A run idle this long hands DuckDB's cached blocks back (default 5 s). */
  releaseAfterMs?: number;
  log?: (message: string) => void;
}

/** The dashboard as a function from request to response: no port needed, tests call it in-process. */
export interface App {
  fetch(request: Request, info?: ConnectionInfo): Promise<Response>;
  readonly registry: RunRegistry;
  /** Ends live streams and closes every open run. */
  close(): Promise<void>;
}

export const DEFAULT_WEB_ROOT = path.resolve(import.meta.dirname, '../../web/dist');

export function createApp(options: AppOptions): App {
  if (options.root === undefined && !options.fleet)
    throw new Error('createApp needs a root, a fleet, or both');
  const root = options.root === undefined ? undefined : fs.realpathSync(path.resolve(options.root));
  const fleet = options.fleet && new FleetSource(options.fleet);
  const registry = new RunRegistry({
    root,
    pollMs: options.pollMs,
    maxOpenRuns: options.maxOpenRuns,
    idleCloseMs: options.idleCloseMs,
    cache: options.cache,
    chunkBytes: options.chunkBytes,
    releaseAfterMs: options.releaseAfterMs,
    log: options.log,
  });
  const live = liveRoute({ maxStreamsPerIp: options.maxStreamsPerIp ?? 32 });
  const routes = new Map<string, Route>(
    [
      runsRoute,
      summaryRoute,
      binsRoute,
      sampleRoute,
      heatmapRoute,
      positionsRoute,
      chartFileRoute,
      exportRoute,
      live,
      ...fleetRoutes(fleet, { localRuns: root !== undefined }),
    ].map((r) => [r.path, r]),
  );
  const serveStatic = staticFiles(options.webRoot ?? DEFAULT_WEB_ROOT);
  const middleware: Middleware[] = [
    securityHeaders(),
    errorHandler({ log: options.log }),
    requestGuard({ maxTargetLength: options.maxTargetLength ?? 4096 }),
    hostGuard({ hosts: options.allowedHosts ?? [] }),
    rateLimit(options.rateLimit ?? { burst: 600, perSecond: 200 }),
    bodyLimit({ maxBytes: options.maxBodyBytes ?? 16 * 1024 }),
    readOnly(),
  ];
  const handle = compose(middleware, async (c) => {
    const route = routes.get(c.url.pathname);
    if (route) c.res = await route.handle(c);
    else if (c.url.pathname.startsWith('/api/'))
      throw new HttpError(404, `no API endpoint ${c.url.pathname}`, { valid: [...routes.keys()] });
    else c.res = await serveStatic(c);
  });
  return {
    registry,
    async fetch(request, info = {}) {
      const url = new URL(request.url);
      const c: Context = {
        req: request,
        url,
        ip: info.ip ?? 'local',
        rawTarget: info.rawTarget ?? url.pathname + url.search,
        registry,
        res: undefined,
      };
      await handle(c);
      const res = c.res ?? new Response(null, { status: 500 });
      if (request.method !== 'HEAD' || !res.body) return res;
      void res.body.cancel();
      return new Response(null, { status: res.status, headers: res.headers });
    },
    async close() {
      live.close();
      await Promise.all([registry.close(), fleet?.close()]);
    },
  };
}
