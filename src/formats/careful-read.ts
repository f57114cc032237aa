import fs from 'node:fs';
import { once } from 'node:events';
import { stringifyJsonRecord } from './json-record.js';
import type { LogFile } from './log-file.js';
import { noVotes } from './probe.js';
import type { ReadProblem } from './problems.js';
import { eventOfRecord, profileOfEvent, type Profile } from './profile.js';
import { readRecords } from './read-records.js';
import type { LinePosition } from './read-json-lines.js';
import { addValue, emptyShape, type Shape } from './shape.js';

/** The column a careful read adds to each record: the line the record starts on. */
export const LINE_KEY = '__runlens_line';

export interface CarefulRead {
  /** Good records written, one per line (events unwrapped from loguru lines, LINE_KEY added). */
  records: number;
  /** Shape of every good event (complete: every record was looked at). */
  shape: Shape;
  votes: Record<Profile, number>;
  problems: Omit<ReadProblem, 'file'>[];
  /** JSON lines: where the read stopped (a partial last line held back when `holdPartial`). */
  position: LinePosition;
  /** The layout the reader found. */
  layout: 'json-lines' | 'json-values' | 'csv' | undefined;
}

/**
 * Reads a file the way DuckDB cannot: with the JS readers, which accept a byte order mark, CSV and
 * pretty-printed objects, and which find every corrupt, truncated or non-object record with its
 * line. The good records are written to `target` as JSON lines (NaN kept as a token) for DuckDB to
 * read; the shape of every record comes back with them, so the columns DuckDB declares hold every
 * value. Memory stays at one batch of records.
 */
export async function carefulRead(
  file: Pick<LogFile, 'path' | 'gzip' | 'container'>,
  target: string,
  options: { position?: LinePosition; holdPartial?: boolean } = {},
): Promise<CarefulRead> {
  const out = fs.createWriteStream(target);
  const result: CarefulRead = {
    records: 0,
    shape: emptyShape(),
    votes: noVotes(),
    problems: [],
    position: { ...(options.position ?? { offset: 0, line: 0 }) },
    layout: undefined,
  };
  const closed = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.on('close', resolve);
  });
  try {
    const records = readRecords(file, (problem) => result.problems.push(problem), {
      position: result.position,
      holdPartial: options.holdPartial,
      onLayout: (layout) => (result.layout = layout),
    });
    for await (const batch of records) {
      let text = '';
      for (const record of batch) {
        const event = eventOfRecord(record.value as Record<string, unknown>);
        result.votes[profileOfEvent(event)]++;
        const written = { [LINE_KEY]: record.line, ...event };
        addValue(result.shape, written);
        text += `${stringifyJsonRecord(written)}\n`;
        result.records++;
      }
      if (text && !out.write(text)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await closed;
  }
  return result;
}
