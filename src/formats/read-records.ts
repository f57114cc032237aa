import { openByteStream } from './byte-source.js';
import type { LogFile } from './log-file.js';
import { readCsv } from './read-csv.js';
import { readJsonLines, type JsonLinesOptions } from './read-json-lines.js';
import { readJsonValues } from './read-json-values.js';
import type { RecordBatches, ReportProblem } from './record.js';

/**
 * Every record of one log file, in file order, in batches. Problems (bad lines, truncation, an
 * unreadable file) go to `report` and never stop the good records around them.
 */
export interface ReadRecordsOptions extends JsonLinesOptions {
  /** Called once the layout is known: JSON lines can be resumed from `position`, the others cannot. */
  onLayout?: (layout: 'json-lines' | 'json-values' | 'csv') => void;
  /** Called after each chunk with the bytes read from disk so far (for progress). */
  onBytes?: (bytesRead: number) => void;
}

export async function* readRecords(
  file: Pick<LogFile, 'path' | 'gzip' | 'container'>,
  report: ReportProblem,
  options: ReadRecordsOptions = {},
): RecordBatches {
  const start = file.gzip ? 0 : (options.position?.offset ?? 0);
  const stream = openByteStream(file, start);
  const onBytes = options.onBytes;
  const counted: AsyncIterable<Buffer> = onBytes
    ? {
        async *[Symbol.asyncIterator]() {
          for await (const chunk of stream) {
            yield chunk;
            onBytes(stream.diskBytes());
          }
        },
      }
    : stream;
  const chunks = peekable(counted);
  try {
    if (file.container === 'csv') {
      options.onLayout?.('csv');
      yield* readCsv(chunks, report);
      return;
    }
    const head = await chunks.peek();
    if (head === undefined) return;
    // A resumed read starts at a line boundary of a file already known to be JSON lines.
    if (start > 0 || looksLikeJsonLines(head)) {
      options.onLayout?.('json-lines');
      yield* readJsonLines(chunks, report, options);
    } else {
      options.onLayout?.('json-values');
      yield* readJsonValues(chunks, report);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    report({
      line: 0,
      kind: 'unreadable',
      message:
        code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR'
          ? `gzip data is corrupt or cut off (${message}); the records before that point were read`
          : `could not read the file (${message})`,
    });
  }
}

/** One JSON object per line (the usual case), versus a JSON array or pretty-printed objects. */
export function looksLikeJsonLines(head: Buffer): boolean {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 13 || head[i] === 10)) i++;
  if (head[i] !== 0x7b /* { */) return head[i] !== 0x5b; /* [ */
  const newline = head.indexOf(10, i);
  const firstLine = head
    .toString('utf8', i, newline === -1 ? Math.min(head.length, i + 4096) : newline)
    .trimEnd();
  // A pretty-printed object opens with "{" alone on its line; a JSON lines record closes on its line.
  return firstLine !== '{' && (newline === -1 || firstLine.endsWith('}'));
}

interface Peekable extends AsyncIterable<Buffer> {
  peek(): Promise<Buffer | undefined>;
}

function peekable(source: AsyncIterable<Buffer>): Peekable {
  const iterator = source[Symbol.asyncIterator]();
  let head: IteratorResult<Buffer> | undefined;
  return {
    async peek() {
      head ??= await iterator.next();
      return head.done ? undefined : head.value;
    },
    async *[Symbol.asyncIterator]() {
      if (head) {
        if (head.done) return;
        yield head.value;
        head = undefined;
      }
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
}
