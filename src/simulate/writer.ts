import { open, type FileHandle } from 'node:fs/promises';

const CHUNK_BYTES = 1 << 20;

/**
 * Writes a file in ~1 MB chunks with bounded memory (two 4 MB buffers): `write` copies text into the
 * current buffer and returns true once it is full enough that the caller should `await flush()`.
 * A flush hands the buffer to the disk and keeps generating into the other one, so producing the next
 * chunk overlaps writing the last. `bytes` counts every UTF-8 byte written so far (flushed or buffered).
 */
export class ChunkWriter {
  bytes = 0;
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES * 4);
  private spare = Buffer.allocUnsafe(CHUNK_BYTES * 4);
  private used = 0;
  private oversize: string[] = [];
  private pending: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<ChunkWriter> {
    return new ChunkWriter(path, await open(path, 'w'));
  }

  /** Buffers `text`; returns true when the caller should `await flush()` before writing more. */
  write(text: string): boolean {
    if (this.oversize.length === 0 && this.used + text.length * 3 <= this.buffer.length) {
      const n = this.buffer.write(text, this.used, 'utf8');
      this.used += n;
      this.bytes += n;
      return this.used >= CHUNK_BYTES;
    }
    this.oversize.push(text);
    this.bytes += Buffer.byteLength(text, 'utf8');
    return true;
  }

  /** Waits for the previous chunk to reach the file, then starts writing this one. */
  async flush(): Promise<void> {
    await this.pending;
    const data = this.buffer;
    const used = this.used;
    const oversize = this.oversize;
    this.buffer = this.spare;
    this.spare = data;
    this.used = 0;
    this.oversize = [];
    this.pending = this.writeOut(data, used, oversize);
    // A failed write surfaces at the next flush or close; do not report it as unhandled meanwhile.
    this.pending.catch(() => {});
  }

  private async writeOut(data: Buffer, used: number, oversize: string[]): Promise<void> {
    if (used > 0) await writeAll(this.handle, data, used);
    for (const text of oversize) {
      const bytes = Buffer.from(text, 'utf8');
      await writeAll(this.handle, bytes, bytes.length);
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      await this.pending;
    } finally {
      await this.handle.close();
    }
  }
}

async function writeAll(handle: FileHandle, data: Buffer, length: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await handle.write(data, offset, length - offset);
    offset += bytesWritten;
  }
}
