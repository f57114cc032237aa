import type { Context } from './context.js';

/** One API endpoint: GET only (the server is read-only), exact path. */
export interface Route {
  path: string;
  handle: (c: Context) => Promise<Response>;
}
