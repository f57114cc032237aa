import type { RunRegistry } from './run-registry.js';

/** Who sent the request, as the transport saw it (the Node adapter fills this in). */
export interface ConnectionInfo {
  /** Remote address; "local" for in-process requests. */
  ip?: string;
  /** The request target exactly as received, before URL normalisation removed `..` segments. */
  rawTarget?: string;
}

/** One request on its way through the middleware chain to a route. */
export interface Context {
  req: Request;
  url: URL;
  ip: string;
  rawTarget: string;
  registry: RunRegistry;
  /** Set by the route (or by a middleware that answers early). */
  res: Response | undefined;
}

export type Next = () => Promise<void>;
export type Middleware = (c: Context, next: Next) => Promise<void>;

/** Runs middleware in order; each decides whether to call the rest of the chain. */
export function compose(middleware: readonly Middleware[], last: (c: Context) => Promise<void>) {
  return async function run(c: Context): Promise<void> {
    const dispatch = async (i: number): Promise<void> => {
      if (i === middleware.length) return last(c);
      await middleware[i](c, () => dispatch(i + 1));
    };
    await dispatch(0);
  };
}

/** A response from JSON text already serialised. */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** The request's path and query with parameters sorted: the key of a cached answer. */
export function requestKey(url: URL): string {
  const params = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${url.pathname}?${new URLSearchParams(params).toString()}`;
}

/** A JSON response; NaN and ±Infinity become null. */
export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data, finiteOrNull), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
