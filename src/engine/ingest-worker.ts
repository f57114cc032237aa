import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { LogFile } from '../formats/log-file.js';
import type { FieldStat } from './field-stats.js';
import { chunkBuffers, ColumnBuffer, type ColumnSpec, type EncodedChunk } from './column-buffer.js';
import {
  Ingestor,
  type IngestOptions,
  type IngestProgress,
  type IngestResult,
  type IngestWriter,
  type IngestWriters,
} from './ingest.js';
import { INGEST_TABLES, type OrderStat } from './ingest-schema.js';

/**
 * The ingest's worker thread: reads and parses the files and buffers their rows column-wise
 * (Ingestor with posting writers), while the thread that created it appends the posted chunks to
 * DuckDB (`ingestOnWorker`). No DuckDB is loaded here.
 */

/** What the worker is started with (its `workerData`). */
export interface IngestJob {
  kind: 'runlens-ingest';
  files: LogFile[];
  options: Omit<IngestOptions, 'onProgress' | 'onParallelNote' | 'live'>;
  /** Post progress messages (the caller has an `onProgress`). */
  progress: boolean;
}

/** IngestResult as it crosses threads: the catalogue as its stats, order statistics as plain objects. */
export type PostedResult = Omit<IngestResult, 'fields' | 'order'> & {
  fields: FieldStat[];
  order: [string, Omit<OrderStat, 'see'>][];
  /** Each table's columns in the order this worker made them (by table name), for `reconcileParts`. */
  columns: Record<string, ColumnSpec[]>;
  /** See Ingestor.emptyTextSkipped, for `reconcileParts`. */
  emptyTextSkipped: { rows: string[]; uidRows: string[] };
};

export type WorkerMessage =
  | { type: 'batch'; table: string; columns: ColumnSpec[]; chunks: EncodedChunk[] }
  | { type: 'progress'; progress: IngestProgress }
  | { type: 'done'; result: PostedResult }
  | { type: 'error'; name: string; message: string; hint?: string; exitCode?: number; stack?: string };

/** What the worker posts: messages in the order they were made, about SEND_BYTES of batches at a time. */
export interface WorkerPost {
  messages: WorkerMessage[];
}

/** The only message the worker receives: a post was handled (its batches appended). */
export interface AckMessage {
  type: 'ack';
}

/**
 * Batches are posted together once they hold this many bytes: one message per table flush (three
 * per 2 048 rows) made both threads wait on each other's latency (FileTAO 1 GB: 26 s with 4 such
 * messages in flight, 19.7 s with 64).
 */
const SEND_BYTES = 1 << 20;

/**
 * Posts not yet handled before the worker waits: memory stays bounded (≈ MAX_IN_FLIGHT ×
 * SEND_BYTES) when appending is slower than parsing.
 */
const MAX_IN_FLIGHT = 8;

/** Posts messages to the appending thread in order, batched, at most MAX_IN_FLIGHT posts ahead of it. */
class BatchChannel {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private pending: WorkerMessage[] = [];
  private transfer: ArrayBuffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: AckMessage) => {
      if (message.type !== 'ack') return;
      this.inFlight--;
      this.waiting.shift()?.();
    });
  }

  /** Queues a message, to go with the next post. */
  queue(message: WorkerMessage, transfer: ArrayBuffer[] = [], bytes = 0): void {
    this.pending.push(message);
    for (const buffer of transfer) this.transfer.push(buffer);
    this.pendingBytes += bytes;
  }

  /** Queues a message and posts the queue once it holds SEND_BYTES (`bytes`: the message's size). */
  async add(message: WorkerMessage, transfer: ArrayBuffer[] = [], bytes = 0): Promise<void> {
    this.queue(message, transfer, bytes);
    if (this.pendingBytes >= SEND_BYTES) await this.send();
  }

  /** Posts what is queued, once fewer than MAX_IN_FLIGHT posts are unhandled. */
  async send(): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.pending.length === 0) return;
    this.inFlight++;
    const post: WorkerPost = { messages: this.pending };
    this.port.postMessage(post, this.transfer);
    this.pending = [];
    this.transfer = [];
    this.pendingBytes = 0;
  }
}

/** An IngestWriter whose flush posts the buffered rows, encoded, to the appending thread. */
class PostingWriter extends ColumnBuffer implements IngestWriter {
  constructor(
    spec: (typeof INGEST_TABLES)[keyof typeof INGEST_TABLES],
    private readonly channel: BatchChannel,
  ) {
    super(spec.table, spec.columns);
  }

  async flush(): Promise<void> {
    if (this.rows === 0) return;
    const columns = this.columnSpecs();
    const chunks = this.takeChunks(true);
    const buffers = chunkBuffers(chunks);
    await this.channel.add(
      { type: 'batch', table: this.table, columns, chunks },
      buffers,
      buffers.reduce((sum, b) => sum + b.byteLength, 0) + stringBytes(chunks),
    );
  }

  close(): Promise<void> {
    return this.flush();
  }

  abandon(): void {
    this.discard();
  }
}

/** Reads the job's files, posting batches, progress and finally the result (or the error). */
export async function runIngestJob(job: IngestJob, port: MessagePort): Promise<void> {
  const channel = new BatchChannel(port);
  try {
    const writers: IngestWriters = {
      rows: new PostingWriter(INGEST_TABLES.rows, channel),
      uidRows: new PostingWriter(INGEST_TABLES.uidRows, channel),
      uidIndexed: new PostingWriter(INGEST_TABLES.uidIndexed, channel),
    };
    const ingestor = new Ingestor(writers, {
      ...job.options,
      onProgress: job.progress ? (progress) => channel.queue({ type: 'progress', progress }) : undefined,
    });
    await ingestor.ingestAll(job.files);
    const result = ingestor.result();
    const skipped = ingestor.emptyTextSkipped;
    const posted: PostedResult = {
      ...result,
      fields: result.fields.all(),
      order: [...result.order].map(([path, stat]) => [path, { ...stat }]),
      columns: Object.fromEntries(Object.values(writers).map((w) => [w.table, w.columnSpecs()])),
      emptyTextSkipped: { rows: [...skipped.rows], uidRows: [...skipped.uidRows] },
    };
    // With the last batches: what ingestAll queued is posted with the result.
    channel.queue({ type: 'done', result: posted });
    await channel.send();
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    // Alone: what was queued before the error is not needed any more.
    port.postMessage({
      messages: [
        {
          type: 'error',
          name: e.name,
          message: e.message,
          hint: e instanceof UserError ? e.hint : undefined,
          exitCode: e instanceof UserError ? e.exitCode : undefined,
          stack: e.stack,
        },
      ],
    } satisfies WorkerPost);
  }
}

/** About the bytes the chunks' strings take (UTF-16 length, plus a reference each). */
function stringBytes(chunks: readonly EncodedChunk[]): number {
  let bytes = 0;
  for (const chunk of chunks) {
    for (const column of chunk.columns) {
      if ('strings' in column) {
        for (const value of column.strings) bytes += 8 + (typeof value === 'string' ? value.length : 0);
      } else if ('dictionary' in column) for (const value of column.dictionary) bytes += 8 + value.length;
    }
  }
  return bytes;
}

const job = workerData as IngestJob | undefined;
if (parentPort && job?.kind === 'runlens-ingest') void runIngestJob(job, parentPort);
