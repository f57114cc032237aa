import type { LiveStateEvent, LiveUpdateEvent } from '../../src/server/api-types.js';

export interface LiveHandlers {
  state?: (event: LiveStateEvent) => void;
  update?: (event: LiveUpdateEvent) => void;
  /** `closed`: the server refused the stream (an unknown run, say); the browser will not retry. */
  connection?: (open: boolean, closed: boolean) => void;
}

/** Listens to /api/live for one run (opening it if needed); returns the function that stops listening. */
export function watchRun(id: string, handlers: LiveHandlers): () => void {
  const source = new EventSource(`/api/live?run=${encodeURIComponent(id)}`);
  source.addEventListener('state', (e) => handlers.state?.(JSON.parse((e as MessageEvent).data)));
  source.addEventListener('update', (e) => handlers.update?.(JSON.parse((e as MessageEvent).data)));
  source.addEventListener('open', () => handlers.connection?.(true, false));
  source.addEventListener('error', () =>
    handlers.connection?.(false, source.readyState === EventSource.CLOSED),
  );
  return () => source.close();
}
