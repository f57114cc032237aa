/**
 * Where normalised events go. Readers and normalisers call these in order for each event; the
 * engine's ingestor implements it (and a future projection scanner can call the same methods).
 */
export interface EventSink {
  beginEvent(line: number): void;
  /** A scalar number (booleans as 0/1) at a dotted path. */
  number(path: string, value: number): void;
  /** A scalar string at a dotted path. */
  text(path: string, value: string): void;
  /** The event's `uids` list; per-uid vectors that follow are aligned with it. */
  uids(uids: readonly number[]): void;
  /** A list aligned by position with `uids` (numbers, booleans, strings or null). */
  uidVector(path: string, values: readonly unknown[]): void;
  /** A list indexed by uid (`set_weights`, `neuron_weights`, `moving_averaged_scores`). */
  uidIndexed(kind: string, values: readonly unknown[]): void;
  /** A field seen but not stored (a list that is neither per-uid nor indexed by uid, null). */
  other(path: string, type: 'list' | 'null' | 'object'): void;
  endEvent(): void;
}
