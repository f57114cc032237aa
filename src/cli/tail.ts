import { InvalidArgumentError } from 'commander';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseJsonRecord, stringifyJsonRecord } from '../formats/json-record.js';
import { summarizeEvent, unwrapEvent } from '../live/event-summary.js';
import { followFile, type FollowedLine, type FollowNotice, type FollowOptions } from '../live/follow.js';
import type { RegisterCommand } from './commands.js';

export interface TailOptions {
  json?: boolean;
  fromStart?: boolean;
  /** Events to show from before now (default 10); ignored with fromStart. */
  lines?: number;
  pollMs?: number;
}

export interface TailIo {
  stdout: Writable;
  stderr: Writable;
  /** Stops tailing (the CLI aborts it on Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
}

export const registerTail: RegisterCommand = (program) => {
  program
    .command('tail')
    .description(
      'print events as they are appended to a log (JSON lines, or a loguru completions.log); Ctrl-C stops',
    )
    .argument('<path>', 'the log file to follow')
    .option('--json', 'print each event as its JSON line instead of a summary')
    .option('--from-start', 'print every event already in the file first')
    .option('-n, --lines <count>', 'print the last <count> events first', parseCount, 10)
    .action(async (path: string, options: TailOptions) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await tailEvents(path, options, {
          stdout: process.stdout,
          stderr: process.stderr,
          signal: stop.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
};

function parseCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0)
    throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${text}"`);
  return count;
}

/**
 * Follows a log and prints its events until the signal aborts: a one-line summary each (or the JSON
 * line with `json`), the event inside `record.extra` for loguru logs. Bad lines go to stderr as
 * file:line and are skipped; rotation, truncation and a cut-short last line are reported there too.
 */
export async function tailEvents(path: string, options: TailOptions, io: TailIo): Promise<void> {
  const from: FollowOptions['from'] = options.fromStart ? 'start' : { lastLines: options.lines ?? 10 };
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  io.signal?.addEventListener('abort', abort);
  if (io.signal?.aborted) stop.abort();
  io.stdout.on('error', abort); // e.g. EPIPE when piped into `head`
  const say = (text: string): void => void io.stderr.write(`runlens tail: ${text}\n`);
  const onLines = async (lines: FollowedLine[]): Promise<void> => {
    let out = '';
    for (const line of lines) {
      const shown = showLine(line, options.json === true, say);
      if (shown !== undefined) out += `${shown}\n`;
    }
    if (out !== '' && !io.stdout.write(out) && !stop.signal.aborted) {
      await Promise.race([once(io.stdout, 'drain'), once(stop.signal, 'abort')]);
    }
  };
  const follower = followFile(path, onLines, {
    from,
    pollMs: options.pollMs,
    signal: stop.signal,
    onNotice: (notice) => say(describeNotice(notice)),
  });
  try {
    await follower.done;
  } finally {
    io.signal?.removeEventListener('abort', abort);
    io.stdout.off('error', abort);
  }
}

function showLine(line: FollowedLine, json: boolean, say: (text: string) => void): string | undefined {
  if (line.text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = parseJsonRecord(line.text);
  } catch (error) {
    say(`${line.file}:${line.line}: not valid JSON (${(error as Error).message}); skipped`);
    return undefined;
  }
  const unwrapped = unwrapEvent(value);
  if (!unwrapped) {
    say(`${line.file}:${line.line}: not an event (expected a JSON object); skipped`);
    return undefined;
  }
  if (!json) return summarizeEvent(value);
  return unwrapped.loguru ? stringifyJsonRecord(unwrapped.event) : line.text;
}

export function describeNotice(notice: FollowNotice): string {
  switch (notice.kind) {
    case 'waiting':
      return `waiting for ${notice.file} to appear…`;
    case 'truncated':
      return `${notice.file} was truncated (now ${notice.size} bytes, was read up to ${notice.offset}); reading it from the start`;
    case 'rotated':
      return `${notice.file} was rotated; following the new file from its start`;
    case 'removed':
      return `${notice.file} was removed; waiting for it to appear again`;
    case 'partial-line':
      return `${notice.file}:${notice.line}: last line of the old file is incomplete (${notice.bytes} bytes, a write cut short); not an event`;
    case 'line-too-long':
      return `${notice.file}:${notice.line}: line longer than the limit (${notice.bytes} bytes so far); skipped`;
    case 'error':
      return `${notice.file}: ${notice.error.message}`;
  }
}
