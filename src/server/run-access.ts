import type { PendingResponse } from './api-types.js';
import { json, type Context } from './context.js';
import type { Query } from './query.js';
import type { RunHandle } from './run-handle.js';

/**
 * The run a request names. When nothing of it can be answered yet, opening starts and the answer is
 * 202 with the indexing progress (the page shows it and listens on /api/live). A run still being
 * read answers from what is indexed so far, unless the route needs all of it (`complete`: downloads).
 */
export function runOrPending(
  c: Context,
  query: Query,
  options: { complete?: boolean } = {},
): { handle: RunHandle; pending?: Response } {
  const handle = c.registry.handle(query.runId());
  if (handle.state === 'ready' || (!options.complete && handle.answerable)) return { handle };
  handle.open().catch(() => {});
  const body: PendingResponse = {
    id: handle.id,
    state: handle.state,
    progress: handle.progress,
    error: handle.state === 'error' ? handle.error : undefined,
  };
  return { handle, pending: json(body, handle.state === 'error' ? 422 : 202) };
}
