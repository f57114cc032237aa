import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { readHead } from '../formats/byte-source.js';
import type { LogFile } from '../formats/log-file.js';
import { looksLikeJsonLines } from '../formats/read-records.js';
import { FieldCatalog, mergeFieldStats, type FieldStat } from './field-stats.js';
import { Ingestor, PeriodicRelease, type IngestOptions, type IngestResult } from './ingest.js';
import { INGEST_TABLES, OrderStat } from './ingest-schema.js';
import type { AckMessage, IngestJob, PostedResult, WorkerMessage, WorkerPost } from './ingest-worker.js';
import { quoteIdentifier, type Session } from './session.js';
import { ColumnTypeMismatch, TableWriter } from './table-writer.js';

/** The ingest's tables, created (empty) in the session, and their writers. */
async function createTables(
  session: Session,
): Promise<{ rows: TableWriter; uidRows: TableWriter; uidIndexed: TableWriter }> {
  const writers = {
    rows: new TableWriter(session, INGEST_TABLES.rows.table, INGEST_TABLES.rows.columns),
    uidRows: new TableWriter(session, INGEST_TABLES.uidRows.table, INGEST_TABLES.uidRows.columns),
    uidIndexed: new TableWriter(session, INGEST_TABLES.uidIndexed.table, INGEST_TABLES.uidIndexed.columns),
  };
  // One connection: statements and appenders on it must not overlap, so one writer at a time.
  for (const writer of Object.values(writers)) await writer.create();
  return writers;
}

/** An Ingestor reading into the session's tables on this thread (it can also follow a live run). */
export async function createIngestor(session: Session, options: IngestOptions = {}): Promise<Ingestor> {
  return new Ingestor(await createTables(session), options, session);
}

const WORKER_URL = new URL('./ingest-worker.js', import.meta.url);

/** Whether the compiled worker is there (tests run the TypeScript sources, which have none). */
export function canIngestOnWorker(): boolean {
  return fs.existsSync(fileURLToPath(WORKER_URL));
}

/** Bytes of the first file looked at by `suitsIngestWorker`. */
const SAMPLE_BYTES = 64 * 1024;
/** Longest mean line of JSON lines that `suitsIngestWorker` accepts. */
const NARROW_LINE_BYTES = 4096;

/**
 * Whether a run gains from `ingestOnWorker`: JSON lines of narrow records (FileTAO: ~1 kB a line,
 * 16 per-uid rows each), judged by the first 64 kB of its first file. There parsing and appending
 * cost about the same and overlap (1 GB: 29.5 → 19.6 s). Wide rows (OpenValidators, ~15 kB a
 * line) spend most of the time appending: no gain (15.8 → 16.3 s) for +86 MB, which took its
 * 10 GB `export` past 1 GB (1011 MB). RL's JSON arrays spend it parsing: 31.4 → 30.0 s for +160 MB.
 */
export function suitsIngestWorker(files: readonly LogFile[]): boolean {
  const first = files[0];
  if (first === undefined || first.gzip || first.container === 'csv') return false;
  let head: Buffer;
  try {
    head = readHead(first.path, Math.min(SAMPLE_BYTES, first.bytes));
  } catch {
    return false; // unreadable: the ingest reports it
  }
  let lines = 0;
  for (let i = head.indexOf(10); i !== -1; i = head.indexOf(10, i + 1)) lines++;
  return lines >= 4 && looksLikeJsonLines(head) && head.length / lines <= NARROW_LINE_BYTES;
}

/**
 * Whether a run's files gain from being read by several workers at once (`ingestOnWorker` with
 * `workers` > 1): more than one file, none gzip or CSV, the first of JSON values (RL's indent=2
 * arrays), where parsing is nearly all the time: RL 2.68 GB in 44 files, 42-46 s on one thread,
 * 23-26.5 s on two workers, for +~200 MB. Not JSON lines: narrow ones (FileTAO 1 GB in four
 * files) gained only 27.5 → 24 s on two workers for +135 MB, the appending thread being the
 * other bottleneck, and wide ones spend nearly all their time appending.
 */
export function suitsParallelIngest(files: readonly LogFile[]): boolean {
  if (files.length < 2 || files.some((f) => f.gzip || f.container === 'csv')) return false;
  let head: Buffer;
  try {
    head = readHead(files[0].path, Math.min(SAMPLE_BYTES, files[0].bytes));
  } catch {
    return false; // unreadable: the ingest reports it
  }
  return head.length > 0 && !looksLikeJsonLines(head);
}

/**
 * Reads `files` into the session's tables as `createIngestor(...).ingestAll(files)` would, into
 * the same rows, with the reading and parsing on worker threads and the appending to DuckDB on
 * this one: on two cores they overlap (a FileTAO ingest spends about half its time in each).
 * With `workers` > 1 and several files, each worker reads a contiguous part of the files (split by
 * bytes) and their rows are appended as they come; should the parts disagree where one reader
 * would have carried a decision from one file to the next (a field's column type, which fields
 * the per-uid rows copy, an empty text left out before its column existed), the run is read again
 * by one worker. Not for live runs: the result is final, there is no Ingestor to refresh.
 */
export async function ingestOnWorker(
  session: Session,
  files: readonly LogFile[],
  options: IngestOptions = {},
  workers = 1,
): Promise<IngestResult> {
  const parts = splitFiles(files, workers);
  if (parts.length > 1) {
    try {
      return await ingestParts(session, parts, options);
    } catch (error) {
      if (!(error instanceof PartsDisagree)) throw error;
      options.onParallelNote?.(`read again by one worker: ${error.message}`);
    }
  }
  return ingestParts(session, [files], options);
}

/**
 * Files in at most `count` contiguous parts of about equal bytes, none empty (fewer parts when
 * there are fewer files).
 */
export function splitFiles(files: readonly LogFile[], count: number): LogFile[][] {
  const n = Math.max(1, Math.min(Math.floor(count), files.length));
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const parts: LogFile[][] = [];
  let bytes = 0;
  let part: LogFile[] = [];
  files.forEach((file, i) => {
    part.push(file);
    bytes += file.bytes;
    const left = files.length - i - 1;
    const partsLeft = n - parts.length - 1;
    // Close this part when it reached its share of the bytes, or the files left are just enough.
    if (partsLeft > 0 && (bytes >= (total * (parts.length + 1)) / n || left === partsLeft)) {
      parts.push(part);
      part = [];
    }
  });
  if (part.length) parts.push(part);
  return parts;
}

/** The parts of a parallel ingest disagree: the run must be read by one worker (`ingestOnWorker`). */
class PartsDisagree extends Error {}

async function ingestParts(
  session: Session,
  parts: readonly (readonly LogFile[])[],
  options: IngestOptions,
): Promise<IngestResult> {
  const writers = await createTables(session);
  const byTable = new Map(Object.values(writers).map((w) => [w.table, w]));
  const { onProgress } = options;
  // Only what the ingest reads (callers pass wider option objects, e.g. Run's, which need not
  // clone); the type makes a new ingest option fail to compile here until it is passed on.
  const { perUidFields, xCandidates, keyX, strict, maxProblemDetails, byteWalker } = options;
  const firsts: number[] = [];
  let fileCount = 0;
  for (const part of parts) {
    firsts.push(fileCount);
    fileCount += part.length;
  }
  const parallel = parts.length > 1;
  const workers = parts.map((part, k) => {
    const passed = {
      perUidFields,
      xCandidates,
      keyX,
      strict,
      maxProblemDetails,
      firstFile: firsts[k],
      byteWalker,
    } satisfies Record<keyof IngestJob['options'], unknown>;
    const job: IngestJob = {
      kind: 'runlens-ingest',
      files: part.map((f) => ({ ...f })),
      options: passed,
      progress: !!onProgress,
    };
    return new Worker(WORKER_URL, { workerData: job });
  });
  const bytesTotal = parts.flat().reduce((sum, f) => sum + f.bytes, 0);
  const progress = parts.map(() => ({ bytesDone: 0, rows: 0 }));
  const results: (PostedResult | undefined)[] = parts.map(() => undefined);
  let appended = 0;
  const release = new PeriodicRelease(session);
  try {
    return await new Promise<IngestResult>((resolve, reject) => {
      let settled = false;
      let queue = Promise.resolve();
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        for (const writer of byTable.values()) writer.abandon();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const handle = async (message: WorkerMessage, k: number): Promise<void> => {
        if (settled) return;
        switch (message.type) {
          case 'batch': {
            const writer = byTable.get(message.table);
            if (!writer) throw new Error(`ingest worker: unknown table ${message.table}`);
            try {
              await writer.appendChunks(message.columns, message.chunks);
            } catch (error) {
              if (parallel && error instanceof ColumnTypeMismatch) throw new PartsDisagree(error.message);
              throw error;
            }
            if (writer !== writers.uidIndexed) {
              for (const chunk of message.chunks) appended += chunk.rows;
              // As Ingestor does when it appends on this thread.
              await release.after(appended);
            }
            return;
          }
          case 'progress': {
            const p = message.progress;
            progress[k] = { bytesDone: p.bytesDone, rows: p.rows };
            onProgress?.({
              ...p,
              fileIndex: firsts[k] + p.fileIndex,
              fileCount,
              bytesDone: progress.reduce((sum, q) => sum + q.bytesDone, 0),
              bytesTotal,
              rows: progress.reduce((sum, q) => sum + q.rows, 0),
            });
            return;
          }
          case 'done':
            results[k] = message.result;
            if (results.some((r) => r === undefined)) return;
            // Sequential: a writer's appender must not close while another runs a statement.
            for (const writer of byTable.values()) await writer.close();
            if (parallel) await reconcileParts(session, writers, results as PostedResult[], options);
            settled = true;
            resolve(receivedResult(mergeResults(results as PostedResult[], maxProblemDetails)));
            return;
          case 'error':
            // A part's error (a bad record under --strict, say) need not be the first in file
            // order, which one reader reports: that reader says which.
            fail(parallel ? new PartsDisagree(`a part stopped: ${message.message}`) : receivedError(message));
            return;
        }
      };
      workers.forEach((worker, k) => {
        // Messages are handled one after the other, in the order they arrive from all workers.
        worker.on('message', (post: WorkerPost) => {
          queue = queue
            .then(async () => {
              for (const message of post.messages) await handle(message, k);
              if (!settled) worker.postMessage({ type: 'ack' } satisfies AckMessage);
            })
            .catch(fail);
        });
        worker.on('error', fail);
        worker.on('messageerror', fail);
        worker.on('exit', (code) => {
          queue = queue.then(() => {
            if (results[k] === undefined)
              fail(new Error(`the ingest worker stopped (exit code ${code}) before it finished`));
          });
        });
      });
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * After a parallel ingest: checks the parts agree where one reader would have carried a decision
 * over (else PartsDisagree), and puts each table's columns in the order one reader would have
 * made them (the order in which they first appear in the files), rebuilding a table whose columns
 * were added in another order (the parts' batches arrive in any order).
 */
async function reconcileParts(
  session: Session,
  writers: Awaited<ReturnType<typeof createTables>>,
  results: readonly PostedResult[],
  options: IngestOptions,
): Promise<void> {
  const decided = results.filter((r) => r.uidKeys.decided);
  if (decided.some((r) => r.uidKeys.x !== decided[0].uidKeys.x || r.uidKeys.task !== decided[0].uidKeys.task))
    throw new PartsDisagree('the parts copy different fields into the per-uid rows');
  for (const [table, key] of [
    ['rows', 'rows'],
    ['uid_rows', 'uidRows'],
  ] as const) {
    results.forEach((result, k) => {
      for (const path of result.emptyTextSkipped[key]) {
        if (
          results
            .slice(0, k)
            .some((earlier) => earlier.columns[table]?.some((c) => c.name === path && c.type === 'VARCHAR'))
        )
          throw new PartsDisagree(
            `an empty ${path} in ${table} was left out that one reader would have stored`,
          );
      }
    });
  }
  for (const writer of Object.values(writers)) {
    const canonical: string[] = [];
    for (const result of results) {
      for (const column of result.columns[writer.table] ?? [])
        if (!canonical.includes(column.name)) canonical.push(column.name);
    }
    const actual = writer.columnNames();
    if (canonical.length !== actual.length)
      throw new Error(
        `parallel ingest: ${writer.table} has ${actual.length} columns, the parts ${canonical.length}`,
      );
    if (canonical.every((name, i) => name === actual[i])) continue;
    options.onParallelNote?.(`${writer.table} rebuilt with its columns in file order`);
    const table = quoteIdentifier(writer.table);
    await session.run(
      `CREATE OR REPLACE TABLE ${table} AS SELECT ${canonical.map(quoteIdentifier).join(', ')} FROM ${table}`,
    );
  }
}

/** One result from the parts' results, in file order, as one reader of all their files would give. */
function mergeResults(results: readonly PostedResult[], maxProblemDetails = 200): PostedResult {
  if (results.length === 1) return results[0];
  const fields = new Map<string, FieldStat>();
  for (const result of results) mergeFieldStats(fields, result.fields);
  const typeConflicts = new Map<string, number>();
  for (const result of results)
    for (const [column, n] of result.typeConflicts)
      typeConflicts.set(column, (typeConflicts.get(column) ?? 0) + n);
  const order = new Map<string, Omit<OrderStat, 'see'>>();
  for (const result of results) {
    for (const [path, stat] of result.order) {
      const into = order.get(path);
      if (into === undefined) order.set(path, { ...stat });
      else
        Object.assign(into, {
          present: into.present + stat.present,
          decreases: into.decreases + stat.decreases,
          min: Math.min(into.min, stat.min),
          max: Math.max(into.max, stat.max),
          // Each file starts afresh: what remains is the last file's.
          last: stat.last,
        });
    }
  }
  const sum = (key: 'problemCount' | 'rows' | 'uidRows' | 'uidIndexedRows') =>
    results.reduce((total, r) => total + r[key], 0);
  return {
    files: results.flatMap((r) => r.files),
    problems: results.flatMap((r) => r.problems).slice(0, maxProblemDetails),
    problemCount: sum('problemCount'),
    rows: sum('rows'),
    uidRows: sum('uidRows'),
    uidIndexedRows: sum('uidIndexedRows'),
    fields: [...fields.values()],
    typeConflicts,
    order: [...order],
    uidKeys: results.find((r) => r.uidKeys.decided)?.uidKeys ?? results[0].uidKeys,
    columns: {},
    emptyTextSkipped: { rows: [], uidRows: [] },
  };
}

function receivedResult(received: PostedResult): IngestResult {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- what only reconcileParts reads
  const { columns, emptyTextSkipped, ...posted } = received;
  return {
    ...posted,
    fields: FieldCatalog.from(posted.fields),
    order: new Map(posted.order.map(([path, stat]) => [path, Object.assign(new OrderStat(), stat)])),
  };
}

function receivedError(message: Extract<WorkerMessage, { type: 'error' }>): Error {
  if (message.name === 'UserError') {
    return new UserError(message.message, { hint: message.hint, exitCode: message.exitCode });
  }
  const error = new Error(message.message);
  error.name = message.name;
  if (message.stack) error.stack = `${message.stack}\n    (on the ingest worker thread)`;
  return error;
}
