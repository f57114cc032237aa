import type { Middleware } from '../context.js';

const HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  // Only the page's own origin, for every kind of request (no plugins, no frames). Plotly injects
  // <style> elements and its WebGL traces compile code at run time.
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** Conservative headers on every response: no sniffing, no framing, nothing loaded from elsewhere. */
export function securityHeaders(): Middleware {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    if (!c.res) return;
    for (const [name, value] of Object.entries(HEADERS))
      if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  };
}
