import type { ErrorBody } from '../api-types.js';
import { json, type Middleware } from '../context.js';
import { HttpError } from '../http-error.js';
import { isUserError } from '../../errors.js';

/**
 * Turns anything thrown below into a clear answer: a JSON body `{ error: { status, message, hint } }`
 * for the API, a small HTML page for a browser asking for a page. Unexpected errors are logged and
 * answered with 500 without internals.
 */
export function errorHandler(options: { log?: (message: string) => void } = {}): Middleware {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  return async function errorHandlerMiddleware(c, next) {
    try {
      await next();
    } catch (error) {
      let status = 500;
      let message = 'internal error';
      let hint: string | undefined;
      let valid: string[] | undefined;
      let headers: Record<string, string> = {};
      if (error instanceof HttpError) {
        ({ status, message, hint, valid, headers } = error);
      } else if (isUserError(error)) {
        status = 422;
        message = error.message;
        hint = error.hint;
      } else {
        log(
          `runlens serve: ${c.req.method} ${c.url.pathname}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        hint = 'see the server output for details';
      }
      c.res = wantsPage(c.req, c.url)
        ? errorPage(status, message, hint, headers)
        : json({ error: { status, message, hint, valid } } satisfies ErrorBody, status, headers);
    }
  };
}

function wantsPage(req: Request, url: URL): boolean {
  return !url.pathname.startsWith('/api/') && (req.headers.get('accept') ?? '').includes('text/html');
}

export function errorPage(
  status: number,
  message: string,
  hint: string | undefined,
  headers: Record<string, string> = {},
): Response {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · runlens</title>
<style>body{font:15px/1.5 system-ui,sans-serif;color:#1f2937;max-width:40rem;margin:4rem auto;padding:0 1rem}
h1{font-size:1.3rem}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:3px}a{color:#2563eb}</style></head>
<body><h1>${status} — ${escapeHtml(message)}</h1>${hint ? `<p>${escapeHtml(hint)}</p>` : ''}<p><a href="/">Back to the runs</a></p></body></html>`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
