/** One complete line of a file: its text (without "\n", "\r\n" or a leading BOM), number and byte offset. */
export interface CompleteLine {
  text: string;
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
}

export interface LineSplitterOptions {
  /** A line longer than this is dropped (reported through onTooLong) instead of held in memory. */
  maxLineBytes?: number;
  onTooLong?: (line: number, offset: number, bytes: number) => void;
}

export const DEFAULT_MAX_LINE_BYTES = 64 << 20;

/**
 * Cuts a byte stream into complete lines. Bytes after the last "\n" are held back (copied, so the
 * caller may reuse its read buffer) until a later chunk completes them. Memory is one chunk plus the
 * partial line, and the partial line is capped by `maxLineBytes`.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skippingTooLong = false;
  private nextLine: number;
  private nextOffset: number;
  private readonly maxLineBytes: number;

  constructor(
    start: { offset: number; line: number } = { offset: 0, line: 1 },
    private readonly options: LineSplitterOptions = {},
  ) {
    this.nextOffset = start.offset;
    this.nextLine = start.line;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Line number and offset where the next (possibly partial) line starts. */
  get position(): { offset: number; line: number } {
    return { offset: this.nextOffset, line: this.nextLine };
  }

  /** Bytes of the incomplete last line held back so far. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  reset(start: { offset: number; line: number } = { offset: 0, line: 1 }): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skippingTooLong = false;
    this.nextOffset = start.offset;
    this.nextLine = start.line;
  }

  /** Splits one chunk; returns the lines it completes, in order. */
  push(chunk: Buffer): CompleteLine[] {
    const lines: CompleteLine[] = [];
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(10, start)) !== -1) {
      const length = this.pendingBytes + newline - start;
      if (this.skippingTooLong) this.skippingTooLong = false;
      else
        lines.push({
          text: this.decode(chunk.subarray(start, newline)),
          line: this.nextLine,
          offset: this.nextOffset,
        });
      this.pending = [];
      this.pendingBytes = 0;
      this.nextLine++;
      this.nextOffset += length + 1;
      start = newline + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
    return lines;
  }

  private hold(bytes: Buffer): void {
    if (this.skippingTooLong) {
      this.pendingBytes += bytes.length;
      return;
    }
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.options.onTooLong?.(this.nextLine, this.nextOffset, this.pendingBytes);
      this.pending = [];
      this.skippingTooLong = true;
    }
  }

  private decode(tail: Buffer): string {
    let bytes = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    if (
      this.nextOffset === 0 &&
      bytes.length >= 3 &&
      bytes[0] === 0xef &&
      bytes[1] === 0xbb &&
      bytes[2] === 0xbf
    ) {
      bytes = bytes.subarray(3);
    }
    return bytes.toString('utf8');
  }
}
