import { createReadStream, createWriteStream, openSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { rotatedPath, scanRotated, unlinkIfPresent } from './rotation.js';
import { isAlive } from '../process-alive.js';

interface Job {
  index: number;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Gzips rotated files in the background so the writer never waits for compression. A job reads
 * `.N` through an fd opened when it starts (so renames during the job do not matter), writes a
 * temporary file, then renames it to `.N.gz` under the file's current number and deletes `.N`.
 * Until then readers see the complete `.N`.
 */
export class RotatedCompressor {
  private jobs = new Set<Job>();
  private serial = 0;

  constructor(
    private readonly path: string,
    private readonly onError: (error: Error) => void,
    private readonly flushBeforeRename: boolean,
  ) {}

  compress(index: number): void {
    const source = rotatedPath(this.path, index, false);
    const temporary = `${this.path}.gz-tmp-${process.pid}-${++this.serial}`;
    const abort = new AbortController();
    const fd = openSync(source, 'r');
    const job: Job = { index, abort, done: Promise.resolve() };
    job.done = pipeline(
      createReadStream('', { fd }),
      createGzip(),
      createWriteStream(temporary, { flush: this.flushBeforeRename }),
      { signal: abort.signal },
    )
      .then(() => {
        if (abort.signal.aborted) return unlinkIfPresent(temporary);
        renameSync(temporary, rotatedPath(this.path, job.index, true));
        unlinkIfPresent(rotatedPath(this.path, job.index, false));
      })
      .catch((error: Error) => {
        unlinkIfPresent(temporary);
        if (!abort.signal.aborted) this.onError(error);
      })
      .finally(() => this.jobs.delete(job));
    this.jobs.add(job);
  }

  /** The rotated files were shifted by one: each job's file now has the next number. */
  shift(): void {
    for (const job of this.jobs) job.index++;
  }

  /** Cancels jobs whose file (numbered from `index` up) is being deleted for retention. */
  forgetFrom(index: number): void {
    for (const job of this.jobs) if (job.index >= index) job.abort.abort();
  }

  settled(): Promise<void> {
    return Promise.all([...this.jobs].map((job) => job.done)).then(() => undefined);
  }

  /**
   * After a crash or closeSync(): deletes temporary files of dead processes, and compresses rotated
   * files left uncompressed (a `.N.gz` beside its `.N` means the old `.N` was not deleted yet; the
   * copy is made again from `.N`, which readers prefer meanwhile).
   */
  recover(): void {
    const prefix = `${basename(this.path)}.gz-tmp-`;
    for (const name of readdirSync(dirname(this.path))) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number(name.slice(prefix.length).split('-')[0]);
      if (!isAlive(pid)) unlinkIfPresent(join(dirname(this.path), name));
    }
    for (const file of scanRotated(this.path)) {
      if (file.gzip) continue;
      unlinkIfPresent(rotatedPath(this.path, file.index, true));
      this.compress(file.index);
    }
  }
}
