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

/** GET that must be ready (the caller waited for the run to open). */
export async function getReady<T>(
  path: string,
  params: Record<string, string | number | undefined>,
): Promise<T> {
  const answer = await get<T>(path, params);
  if (!answer.ready) throw new ApiError(202, `the run is ${answer.pending.state}`);
  return answer.body;
}

export function url(path: string, params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
  const q = search.toString();
  return q ? `${path}?${q}` : path;
}
