import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { HttpError } from '../http-error.js';
import { errorPage } from '../middleware/error-handler.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built front end (web/dist) and nothing else: the decoded path must stay inside the
 * directory after symlinks are resolved, dotfiles are never served, unknown paths are 404.
 * Hashed assets are cached for good; index.html is revalidated.
 */
export function staticFiles(webRoot: string): (c: Context) => Promise<Response> {
  return async function serveStatic(c) {
    const root = realOrUndefined(webRoot);
    if (!root)
      return errorPage(
        503,
        'the dashboard front end is not built',
        'run `npm run build` (it runs `vite build web`)',
      );
    const relative = c.url.pathname === '/' ? 'index.html' : decodeURIComponent(c.url.pathname.slice(1));
    if (relative.split('/').some((s) => s.startsWith('.') || s === ''))
      throw new HttpError(404, `not found: ${c.url.pathname}`);
    const file = realOrUndefined(path.join(root, relative));
    if (!file || !file.startsWith(root + path.sep) || !fs.statSync(file).isFile())
      throw new HttpError(404, `not found: ${c.url.pathname}`);
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const immutable = relative.startsWith('assets/');
    const body = c.req.method === 'HEAD' ? null : await fs.promises.readFile(file);
    return new Response(body, {
      headers: {
        'content-type': type,
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    });
  };
}

function realOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}
