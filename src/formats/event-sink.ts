/**
 * How many values of a list are integer, other finite, or non-finite numbers, and how many are not
 * numbers (`other`), by JSON type: counted by a reader that looked at each value anyway (the
 * byte-level walker), so a sink need not look again.
 */
export interface NumberCounts {
  int: number;
  float: number;
  nan: number;
  other: number;
  /** The `other` values by type (they add up to `other`). */
  bool: number;
  null: number;
  string: number;
  list: number;
  object: number;
}

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
  /**
   * The event's `uids` list; per-uid vectors that follow are aligned with it. `counts`, when the
   * reader gives them, count the list's values by number type (valid until endEvent, like lists).
   */
  uids(uids: readonly number[], counts?: NumberCounts): void;
  /** A list aligned by position with `uids` (numbers, booleans, strings or null). */
  uidVector(path: string, values: readonly unknown[], counts?: NumberCounts): void;
  /** A list indexed by uid (`set_weights`, `neuron_weights`, `moving_averaged_scores`). */
  uidIndexed(kind: string, values: readonly unknown[], counts?: NumberCounts): void;
  /** A field seen but not stored (a list that is neither per-uid nor indexed by uid, null). */
  other(path: string, type: 'list' | 'null' | 'object'): void;
  endEvent(): void;
}
