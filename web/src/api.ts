import type { ErrorBody, PendingResponse } from '../../src/server/api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export type Answer<T> = { ready: true; body: T } | { ready: false; pending: PendingResponse };

/** GET a JSON endpoint: the body when ready, the pending state (202) while the run is being indexed. */
export async function get<T>(
  path: string,
  params: Record<string, string | number | undefined> = {},
): Promise<Answer<T>> {
  const res = await fetch(url(path, params), { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (res.status === 202) return { ready: false, pending: body as PendingResponse };
  if (!res.ok) {
    const error = (body as ErrorBody | undefined)?.error;
    throw new ApiError(res.status, error?.message ?? `${res.status} ${res.statusText}`, error?.hint);
  }
  return { ready: true, body: body as T };
}

/**
 * GET that should be ready (the caller saw the run open). A run the server closed meanwhile (it
 * keeps a few open) is opened again: the answer is waited for, up to `waitMs`.
 */
export async function getReady<T>(
  path: string,
  params: Record<string, string | number | undefined>,
  waitMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let delay = 200; ; delay = Math.min(2000, delay * 2)) {
    const answer = await get<T>(path, params);
    if (answer.ready) return answer.body;
    if (answer.pending.state === 'error' || Date.now() + delay > deadline)
      throw new ApiError(202, answer.pending.error ?? `the run is ${answer.pending.state}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export function url(path: string, params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
  const q = search.toString();
  return q ? `${path}?${q}` : path;
}
