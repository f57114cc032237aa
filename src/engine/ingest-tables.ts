import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { readHead } from '../formats/byte-source.js';
import type { LogFile } from '../formats/log-file.js';
import { looksLikeJsonLines } from '../formats/read-records.js';
import { FieldCatalog } from './field-stats.js';
import { Ingestor, PeriodicRelease, type IngestOptions, type IngestResult } from './ingest.js';
import { INGEST_TABLES, OrderStat } from './ingest-schema.js';
import type { AckMessage, IngestJob, PostedResult, WorkerMessage, WorkerPost } from './ingest-worker.js';
import type { Session } from './session.js';
import { TableWriter } from './table-writer.js';

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
 * Reads `files` into the session's tables as `createIngestor(...).ingestAll(files)` would, into
 * the same rows, with the reading and parsing on a worker thread and the appending to DuckDB on
 * this one: on two cores they overlap (a FileTAO ingest spends about half its time in each).
 * Not for live runs: the result is final, there is no Ingestor to refresh.
 */
export async function ingestOnWorker(
  session: Session,
  files: readonly LogFile[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const writers = await createTables(session);
  const byTable = new Map(Object.values(writers).map((w) => [w.table, w]));
  const { onProgress } = options;
  // Only what the ingest reads (callers pass wider option objects, e.g. Run's, which need not
  // clone); the type makes a new ingest option fail to compile here until it is passed on.
  const { perUidFields, xCandidates, keyX, strict, maxProblemDetails, byteWalker } = options;
  const passed = {
    perUidFields,
    xCandidates,
    keyX,
    strict,
    maxProblemDetails,
    byteWalker,
  } satisfies Record<keyof IngestJob['options'], unknown>;
  const job: IngestJob = {
    kind: 'runlens-ingest',
    files: files.map((f) => ({ ...f })),
    options: passed,
    progress: !!onProgress,
  };
  const worker = new Worker(WORKER_URL, { workerData: job });
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
      const handle = async (message: WorkerMessage): Promise<void> => {
        if (settled) return;
        switch (message.type) {
          case 'batch': {
            const writer = byTable.get(message.table);
            if (!writer) throw new Error(`ingest worker: unknown table ${message.table}`);
            await writer.appendChunks(message.columns, message.chunks);
            if (writer !== writers.uidIndexed) {
              for (const chunk of message.chunks) appended += chunk.rows;
              // As Ingestor does when it appends on this thread.
              await release.after(appended);
            }
            return;
          }
          case 'progress':
            onProgress?.(message.progress);
            return;
          case 'done':
            // Sequential: a writer's appender must not close while another runs a statement.
            for (const writer of byTable.values()) await writer.close();
            settled = true;
            resolve(receivedResult(message.result));
            return;
          case 'error':
            fail(receivedError(message));
            return;
        }
      };
      // Messages are handled one after the other, in the order they were posted.
      worker.on('message', (post: WorkerPost) => {
        queue = queue
          .then(async () => {
            for (const message of post.messages) await handle(message);
            if (!settled) worker.postMessage({ type: 'ack' } satisfies AckMessage);
          })
          .catch(fail);
      });
      worker.on('error', fail);
      worker.on('messageerror', fail);
      worker.on('exit', (code) => {
        queue = queue.then(() =>
          fail(new Error(`the ingest worker stopped (exit code ${code}) before it finished`)),
        );
      });
    });
  } finally {
    await worker.terminate();
  }
}

function receivedResult(posted: PostedResult): IngestResult {
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
