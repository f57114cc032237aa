import fs from 'node:fs';
import type { LogFile } from '../formats/log-file.js';
import { noVotes, probeFile, type FileProbe } from '../formats/probe.js';
import type { Profile } from '../formats/profile.js';
import { mergeShape } from '../formats/shape.js';
import { majorityProfile } from './file-status.js';
import { appendRange, COPY_BYTES, fullRange, lineEndAfter } from './file-ranges.js';
import type { IndexedFile } from './index-db.js';
import {
  FileReadError,
  readCareful,
  readTyped,
  type ChunkResult,
  type PartResult,
  type ReadPart,
} from './index-read.js';
import type { IndexChange, RunIndex, UpdateOptions } from './run-index.js';

export type PlannedRead =
  | { kind: 'full'; file: LogFile; stat: fs.Stats; reuseId?: number }
  | { kind: 'append' | 'touch' | 'renamed'; file: LogFile; stat: fs.Stats; known: IndexedFile };

export interface UpdatePlan {
  drop: number[];
  reads: PlannedRead[];
  nextFileId?: number;
}

/** Carries out the reads of one update: typed reads in groups, careful reads one file at a time. */
export class UpdateReader {
  private bytesDone = 0;
  private readonly bytesTotal: number;
  private rows = 0;

  constructor(
    private readonly index: RunIndex,
    private readonly files: readonly LogFile[],
    private readonly plan: UpdatePlan,
    private readonly options: UpdateOptions,
    private readonly change: IndexChange,
  ) {
    this.bytesTotal = plan.reads.reduce(
      (sum, r) =>
        sum +
        (r.kind === 'full'
          ? r.stat.size
          : r.kind === 'append'
            ? Math.max(0, r.stat.size - r.known.indexedBytes)
            : 0),
      0,
    );
  }

  private progress(fileName: string, extraBytes = 0): void {
    const fileIndex = Math.max(
      0,
      this.files.findIndex((f) => f.name === fileName),
    );
    this.options.onProgress?.({
      fileIndex,
      fileCount: this.files.length,
      fileName,
      bytesDone: Math.min(this.bytesTotal, this.bytesDone + extraBytes),
      bytesTotal: this.bytesTotal,
      rows: this.rows,
    });
  }

  async run(): Promise<void> {
    const typed: { part: ReadPart; read: PlannedRead; entry: IndexedFile }[] = [];
    const careful: { read: PlannedRead; entry: IndexedFile; startOffset: number }[] = [];
    for (const read of this.plan.reads) {
      if (read.kind === 'renamed' || read.kind === 'touch') {
        const known = read.known;
        await this.index.saveFile({
          ...known,
          size: read.stat.size,
          mtimeMs: read.stat.mtimeMs,
          ino: read.stat.ino,
        });
        continue;
      }
      if (read.kind === 'append') {
        const range = appendRange(read.known, read.stat.size);
        this.index.setPartial(range.partial, read.known.fileId);
        if (range.end <= read.known.indexedBytes) {
          await this.index.saveFile({
            ...read.known,
            size: read.stat.size,
            mtimeMs: read.stat.mtimeMs,
            ino: read.stat.ino,
          });
          continue;
        }
        const probe = await this.probe(read.file);
        typed.push({
          part: {
            fileId: read.known.fileId,
            range: { path: read.file.path, start: read.known.indexedBytes, end: range.end },
            layout: 'jsonl',
            recBase: read.known.rows,
            lineBase: read.known.lines,
            probe: { ...probe, loguru: read.known.layout === 'jsonl' && probe.loguru },
          },
          read,
          entry: { ...read.known, size: read.stat.size, mtimeMs: read.stat.mtimeMs, ino: read.stat.ino },
        });
        continue;
      }
      if (read.kind !== 'full') continue;
      const probe = await this.probe(read.file);
      const entry = newEntry(read, probe, read.reuseId ?? this.nextId());
      if (probe.notText) {
        await this.skipNotText(read, entry, probe.notText);
        continue;
      }
      const range = fullRange(read.file, read.stat.size, probe);
      this.index.setPartial(range?.partial && { ...range.partial, fileId: entry.fileId }, entry.fileId);
      if (!range || probe.sampled === 0) careful.push({ read, entry, startOffset: 0 });
      else
        typed.push({
          part: {
            fileId: entry.fileId,
            range: range.range,
            layout: range.layout,
            recBase: 0,
            lineBase: 0,
            probe,
          },
          read,
          entry,
        });
    }
    // Large JSON lines files in parts, each committed before the next: when asked (to show what is
    // read so far), and for byte ranges, which are read from copies of at most COPY_BYTES.
    const partBytes = (t: (typeof typed)[number]): number | undefined => {
      const whole = t.part.range.start === 0 && t.part.range.end === t.read.stat.size;
      const limit = Math.min(this.options.chunkBytes ?? Infinity, whole ? Infinity : COPY_BYTES);
      return t.part.layout === 'jsonl' && t.part.range.end - t.part.range.start > limit * 1.5
        ? limit
        : undefined;
    };
    const inParts = typed.filter((t) => partBytes(t) !== undefined);
    // One statement per layout and wrapper: DuckDB reads the group's files in parallel.
    const groups = new Map<string, typeof typed>();
    for (const item of typed.filter((t) => !inParts.includes(t))) {
      const key = `${item.part.layout}:${item.part.probe.loguru}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    for (const group of groups.values())
      for (const batch of inBatches(group, Math.min(this.options.chunkBytes ?? GROUP_BYTES, GROUP_BYTES)))
        careful.push(...(await this.readGroup(batch)));
    for (const item of inParts) careful.push(...(await this.readInParts(item, partBytes(item)!)));
    for (const item of careful) await this.readOneCarefully(item.read, item.entry, item.startOffset);
  }

  /** Reads one large JSON lines file as consecutive parts, each a chunk of its own. */
  private async readInParts(
    item: { part: ReadPart; read: PlannedRead; entry: IndexedFile },
    limit: number,
  ): Promise<{ read: PlannedRead; entry: IndexedFile; startOffset: number }[]> {
    const { range } = item.part;
    let start = range.start;
    let entry = item.entry;
    let part = item.part;
    while (start < range.end) {
      const end = lineEndAfter(range.path, Math.min(range.end, start + limit), range.end);
      const careful = await this.readGroup([
        { ...item, part: { ...part, range: { ...range, start, end } }, entry },
      ]);
      if (careful.length) return careful;
      entry = this.index.indexedFiles().find((f) => f.fileId === entry.fileId) ?? entry;
      part = { ...part, recBase: entry.rows, lineBase: entry.lines };
      start = end;
    }
    return [];
  }

  /** A file's probe, with the members a check of all its records found beyond an earlier probe. */
  private async probe(file: LogFile): Promise<FileProbe> {
    const probe = await probeFile(file);
    const extra = await this.index.extraShape(file.path);
    if (extra) mergeShape(probe.shape, extra);
    return probe;
  }

  private nextId(): number {
    this.plan.nextFileId ??= this.index.nextFileId();
    return this.plan.nextFileId++;
  }

  /** Reads a group with one typed statement; returns the files to read carefully instead. */
  private async readGroup(
    group: { part: ReadPart; read: PlannedRead; entry: IndexedFile }[],
  ): Promise<{ read: PlannedRead; entry: IndexedFile; startOffset: number }[]> {
    const careful: { read: PlannedRead; entry: IndexedFile; startOffset: number }[] = [];
    let pending = group;
    while (pending.length) {
      const bytes = pending.reduce((sum, g) => sum + g.part.range.end - g.part.range.start, 0);
      const chunk = this.index.nextChunk();
      let result: ChunkResult | undefined;
      let error: unknown;
      try {
        result = await readTyped(
          this.index.session,
          chunk,
          pending.map((g) => g.part),
          (columns) => this.index.nameColumns(columns),
          (fraction) => this.progress(pending[0].read.file.name, fraction * bytes),
        );
      } catch (failure) {
        error = failure;
        await this.index.dropChunkTables(chunk);
      }
      if (result) {
        const group = pending;
        await this.index.commitChunk(result, async (counts) => {
          for (const g of group) {
            const stored = counts.get(g.part.fileId)?.rows ?? 0;
            const entry: IndexedFile = {
              ...g.entry,
              indexedBytes: g.part.range.end,
              rows: g.entry.rows + stored,
              lines: g.part.lineBase + stored,
            };
            await this.finishFile(entry, stored, g.part.range.end - g.part.range.start);
          }
          await this.index.updateOrder(
            group.map((g) => ({ fileId: g.part.fileId, fromRec: g.part.recBase })),
          );
        });
        await this.options.onChunk?.();
        return careful;
      }
      if (error === undefined) {
        // Records DuckDB cannot declare (no keys): the JS readers read them.
        careful.push(...pending.map((g) => carefulFrom(g)));
        return careful;
      }
      if (process.env.RUNLENS_DEBUG_INDEX) process.stderr.write(`typed read failed: ${String(error)}\n`);
      const failed =
        error instanceof FileReadError
          ? pending.filter((g) => g.part.range.path === error.path)
          : pending.length === 1
            ? pending
            : [];
      if (!failed.length) {
        // DuckDB did not say which file: halve the group until it does.
        const half = Math.ceil(pending.length / 2);
        careful.push(...(await this.readGroup(pending.slice(0, half))));
        pending = pending.slice(half);
        continue;
      }
      careful.push(...failed.map((g) => carefulFrom(g)));
      pending = pending.filter((g) => !failed.includes(g));
    }
    return careful;
  }

  /** A file that is not a text log (binary, another encoding): one problem, no rows, nothing read. */
  private async skipNotText(read: PlannedRead, entry: IndexedFile, why: string): Promise<void> {
    const problem = {
      line: 0,
      kind: 'unreadable' as const,
      message: `not a text log (${why}); not read — is it the right file?`,
    };
    await this.index.transaction(async () => {
      await this.index.addProblems(entry.fileId, [problem]);
      const size = read.stat.size;
      await this.finishFile({ ...entry, problems: { unreadable: 1 }, indexedBytes: size }, 0, size);
      await this.index.updateOrder([{ fileId: entry.fileId, fromRec: 0 }]);
      // Nothing of it is read, so nothing is left to check for undeclared members.
      await this.index.setMemberChecked(entry.fileId, size);
      return { commit: true };
    });
  }

  private async readOneCarefully(read: PlannedRead, entry: IndexedFile, startOffset: number): Promise<void> {
    // From the middle of a file (an append, or a part after the ones already read): what the index
    // holds of it so far comes first.
    const base =
      startOffset > 0 ? this.index.indexedFiles().find((f) => f.fileId === entry.fileId) : undefined;
    const chunk = this.index.nextChunk();
    const result = await readCareful(
      this.index.session,
      chunk,
      {
        fileId: entry.fileId,
        recBase: base?.rows ?? 0,
        lineBase: base?.lines ?? 0,
        file: read.file,
        startOffset: base ? startOffset : 0,
        holdPartial: this.options.live ?? false,
      },
      (columns) => this.index.nameColumns(columns),
    ).catch(async (error: unknown) => {
      await this.index.dropChunkTables(chunk);
      throw error;
    });
    const part: PartResult = result.parts[0];
    const careful = part.careful!;
    const bookkeeping = async (): Promise<void> => {
      const problems = careful.problems.filter((p) => !(p.kind === 'truncated' && this.options.live));
      // A partial last line is not stored as a problem: it may be complete at the next look.
      const truncated = problems.filter(
        (p) => p.kind === 'truncated' && entry.layout === 'jsonl' && !entry.gzip,
      );
      const kept = problems.filter((p) => !truncated.includes(p));
      await this.index.addProblems(entry.fileId, kept);
      const counts = { ...(base?.problems ?? entry.problems) };
      for (const p of kept) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
      const resumable = entry.layout === 'jsonl' && !entry.gzip && careful.position.offset > 0;
      this.index.setPartial(
        truncated[0] && {
          fileId: entry.fileId,
          line: truncated[0].line,
          bytes: read.stat.size - careful.position.offset,
        },
        entry.fileId,
      );
      const end = resumable ? careful.position.offset : read.stat.size;
      const votes = base ? addVotes(entry.votes, careful.votes) : careful.votes;
      const next: IndexedFile = {
        ...entry,
        votes,
        profile: majorityProfile(votes),
        problems: counts,
        indexedBytes: end,
        rows: (base?.rows ?? 0) + part.rows,
        lines: resumable ? careful.position.line : (base?.lines ?? 0) + part.rows,
      };
      await this.finishFile(next, part.rows, read.stat.size - (base?.indexedBytes ?? 0));
      await this.index.updateOrder([{ fileId: entry.fileId, fromRec: base?.rows ?? 0 }]);
      // The JS readers saw every record: its shape declared every member.
      await this.index.setMemberChecked(entry.fileId, next.indexedBytes);
    };
    if (result.chunk !== undefined) await this.index.commitChunk(result as ChunkResult, bookkeeping);
    else
      await this.index.transaction(async () => {
        await bookkeeping();
        return { commit: true };
      });
    await this.options.onChunk?.();
  }

  /** A file's bookkeeping after a read (its x candidates' order: RunIndex.updateOrder, per read). */
  private async finishFile(entry: IndexedFile, stored: number, bytes: number): Promise<void> {
    await this.index.saveFile(entry);
    this.index.numberPartialLine(entry.fileId, entry.lines + 1);
    this.rows += stored;
    this.change.newRows += stored;
    this.change.bytesRead += bytes;
    this.bytesDone += bytes;
    this.progress(entry.name);
  }
}

/**
 * Input bytes read into one chunk at most (unless one file is larger). Numbering a chunk's rows
 * (index-read.ts) costs more than in proportion to its size once it no longer fits DuckDB's memory:
 * 433 RL files (27 GB) in one chunk spent longer numbering their rows than reading them.
 */
export const GROUP_BYTES = 1 << 30;

/** Consecutive items in batches of at most `limit` bytes (an item larger than that alone). */
export function inBatches<T extends { part: ReadPart }>(items: readonly T[], limit: number): T[][] {
  const batches: T[][] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.part.range.end - item.part.range.start;
    const last = batches.at(-1);
    if (last && bytes + size <= limit) {
      last.push(item);
      bytes += size;
    } else {
      batches.push([item]);
      bytes = size;
    }
  }
  return batches;
}

/** A typed read that failed, to read carefully from where it started (a whole file from its start). */
function carefulFrom(g: { part: ReadPart; read: PlannedRead; entry: IndexedFile }) {
  const start = g.part.range.start;
  return { read: g.read, entry: g.entry, startOffset: g.part.recBase === 0 ? 0 : start };
}

function addVotes(a: Record<Profile, number>, b: Record<Profile, number>): Record<Profile, number> {
  const votes = noVotes();
  for (const key of Object.keys(votes) as Profile[]) votes[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return votes;
}

function newEntry(read: PlannedRead, probe: FileProbe, fileId: number): IndexedFile {
  const file = read.file;
  return {
    fileId,
    path: file.path,
    name: file.name,
    container: file.container,
    gzip: file.gzip,
    layout: probe.layout,
    size: read.stat.size,
    mtimeMs: read.stat.mtimeMs,
    ino: read.stat.ino,
    headHash: '',
    indexedBytes: 0,
    tailHash: '',
    rows: 0,
    lines: 0,
    profile: majorityProfile(probe.votes),
    votes: probe.votes,
    problems: {},
  };
}
