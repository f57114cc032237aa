import type { Run } from '../engine/run.js';
import type { PartialInfo } from './api-types.js';

/**
 * The parts of a run shown while it is read (Run.open's onPartial): the newest one answers, the
 * one before it closes after the work in flight. Once every byte is read no part answers any
 * more, and what is asked for waits for the whole run, which follows in a moment.
 */
export class PartialRuns {
  /** The part answering now. */
  current: Run | undefined;
  /** What the newest part shown holds (kept until the whole run is there). */
  info: PartialInfo | undefined;
  /** Parts were shown and every byte is read: what is asked for waits for the whole run. */
  finishing = false;
  private readonly shown = new WeakMap<Run, { info: PartialInfo; version: number }>();
  private readonly interrupted = new WeakSet<Run>();

  /** `retire` closes a part after the work queued so far (which may be using it). */
  constructor(private readonly retire: (run: Run) => void) {}

  /** Would a part holding `info` be shown? Not once finishing, nor when it holds every byte. */
  wanted(info: PartialInfo): boolean {
    return !this.finishing && info.bytesRead < info.bytesTotal;
  }

  /** Answers come from `partial` from now on; returns the part shown before it. */
  show(partial: Run, info: PartialInfo, version: number): Run | undefined {
    const previous = this.current;
    this.current = partial;
    this.info = info;
    this.shown.set(partial, { info, version });
    if (previous) this.retire(previous);
    return previous;
  }

  /**
   * No more answers from parts: the query of a part in flight is interrupted (what asked for it
   * waits for the whole run instead), so that the read's last steps (views, checkpoint, handing
   * memory back) have DuckDB to themselves: a heatmap of a part spilling to disk then made them fail.
   */
  end(): void {
    const partial = this.current;
    if (!partial) return;
    this.current = undefined;
    this.finishing = true;
    this.interrupted.add(partial);
    try {
      partial.session.connection.interrupt();
    } catch {
      // nothing running
    }
    this.retire(partial);
  }

  /** The whole run is there (or could not be read): nothing of the parts is shown any more. */
  clear(): void {
    this.end();
    this.finishing = false;
    this.info = undefined;
  }

  /**
   * Was the part's query interrupted (see end)? An interrupted query may also end as if it were
   * done, with only some of its rows: whatever it answered is not an answer.
   */
  wasInterrupted(run: Run): boolean {
    return this.interrupted.has(run);
  }

  /** The version a part was shown as (undefined for a run read completely). */
  versionOf(run: Run): number | undefined {
    return this.shown.get(run)?.version;
  }

  /** What a part holds (undefined for a run read completely). */
  infoOf(run: Run): PartialInfo | undefined {
    return this.shown.get(run)?.info;
  }
}
