import type { Middleware } from '../context.js';
import { HttpError } from '../http-error.js';

/**
 * Rejects malformed request targets before any route sees them: too long (414), NUL bytes or
 * backslashes, and `..` path segments in any spelling (`..`, `%2e%2e`, `.%2E`) — the URL parser
 * would quietly resolve those, so the raw target is checked.
 */
export function requestGuard(options: { maxTargetLength: number }): Middleware {
  return async function requestGuardMiddleware(c, next) {
    const raw = c.rawTarget;
    if (raw.length > options.maxTargetLength)
      throw new HttpError(414, `request target longer than ${options.maxTargetLength} characters`);
    const path = raw.split('?')[0];
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the request path');
    }
    if (/[\0\\]/.test(decoded) || decoded.split('/').some((segment) => segment === '..' || segment === '.'))
      throw new HttpError(400, 'path traversal is not allowed', {
        hint: 'ask for a run by its id as listed by /api/runs',
      });
    await next();
  };
}

/**
 * Answers only requests addressed to this server's own names, so a web page elsewhere cannot reach
 * the dashboard through DNS rebinding. `hosts` are host names without port; an empty list allows any.
 */
export function hostGuard(options: { hosts: readonly string[] }): Middleware {
  const allowed = new Set(options.hosts.map((h) => h.toLowerCase()));
  return async function hostGuardMiddleware(c, next) {
    if (allowed.size) {
      const host = (c.req.headers.get('host') ?? c.url.host).toLowerCase().replace(/:\d+$/, '');
      if (!allowed.has(host))
        throw new HttpError(421, `requests for host "${host}" are not answered here`, {
          hint: `open the dashboard as http://${[...allowed][0]}:<port>/`,
        });
    }
    await next();
  };
}

/** Only GET and HEAD: the dashboard is read-only. */
export function readOnly(): Middleware {
  return async function readOnlyMiddleware(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
      throw new HttpError(405, `${c.req.method} is not allowed: this server is read-only`, {
        headers: { allow: 'GET, HEAD' },
      });
    await next();
  };
}
