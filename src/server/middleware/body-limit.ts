import type { Middleware } from '../context.js';
import { HttpError } from '../http-error.js';

/**
 * Rejects request bodies above `maxBytes` with 413: by Content-Length when it is declared,
 * otherwise by counting the bytes as they arrive (chunked uploads). GET and HEAD carry no body.
 */
export function bodyLimit(options: { maxBytes: number }): Middleware {
  return async function bodyLimitMiddleware(c, next) {
    const declared = c.req.headers.get('content-length');
    const tooLarge = () =>
      new HttpError(413, `request body larger than ${options.maxBytes} bytes`, {
        hint: 'this server is read-only: its API takes query parameters, not request bodies',
        headers: { connection: 'close' },
      });
    if (declared !== null) {
      const length = Number(declared);
      if (!/^\d+$/.test(declared.trim()) || !Number.isSafeInteger(length))
        throw new HttpError(400, `malformed Content-Length "${declared}"`);
      if (length > options.maxBytes) throw tooLarge();
    }
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && c.req.headers.has('transfer-encoding'))
      throw new HttpError(400, `a ${c.req.method} request carries no body`);
    if (c.req.body) {
      let bytes = 0;
      const reader = c.req.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > options.maxBytes) {
          await reader.cancel();
          throw tooLarge();
        }
      }
    }
    await next();
  };
}
