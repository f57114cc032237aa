import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailEvents } from '../src/cli/tail.js';
import { followFile, followLines, type FollowedLine, type FollowNotice } from '../src/live/follow.js';
import { LineSplitter } from '../src/live/line-splitter.js';
import { readCompleteLines } from '../src/live/read-lines.js';
import { EventLog } from '../src/log/index.js';
import { FORMATS } from './helpers/temp.js';

let dir: string;
let counter = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runlens-follow-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshPath(): string {
  return join(dir, `log-${++counter}.jsonl`);
}

/** Waits until `condition` holds (polling), failing after 5 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function collect(path: string, options: Parameters<typeof followFile>[2] = {}) {
  const lines: FollowedLine[] = [];
  const notices: FollowNotice[] = [];
  const follower = followFile(path, (batch) => void lines.push(...batch), {
    pollMs: 20,
    ...options,
    onNotice: (notice) => notices.push(notice),
  });
  return { lines, notices, follower, texts: () => lines.map((line) => line.text) };
}

describe('LineSplitter', () => {
  it('splits across chunk boundaries, strips CRLF and a BOM, keeps UTF-8 intact, counts offsets', () => {
    const bytes = Buffer.from('\uFEFFfirst\r\nzweite Zeile: größer\n\nlast-partial', 'utf8');
    for (const size of [1, 2, 3, 5, 7, bytes.length]) {
      const splitter = new LineSplitter();
      const lines = [];
      for (let i = 0; i < bytes.length; i += size) lines.push(...splitter.push(bytes.subarray(i, i + size)));
      expect(lines.map((line) => line.text)).toEqual(['first', 'zweite Zeile: größer', '']);
      expect(lines.map((line) => [line.line, line.offset])).toEqual([
        [1, 0],
        [2, 10],
        [3, 33],
      ]);
      expect(splitter.partialBytes).toBe('last-partial'.length);
      expect(splitter.position).toEqual({ offset: 34, line: 4 });
    }
  });

  it('drops a line over maxLineBytes and reports it, then carries on', () => {
    const tooLong: number[] = [];
    const splitter = new LineSplitter(undefined, {
      maxLineBytes: 10,
      onTooLong: (line) => tooLong.push(line),
    });
    const lines = [
      ...splitter.push(Buffer.from('ok\n0123456789abc')),
      ...splitter.push(Buffer.from('defgh')),
      ...splitter.push(Buffer.from('ij\nnext\n')),
    ];
    expect(lines.map((line) => [line.line, line.text])).toEqual([
      [1, 'ok'],
      [3, 'next'],
    ]);
    expect(tooLong).toEqual([2]);
  });
});

describe('readCompleteLines', () => {
  it('reads complete lines from an offset and says where to resume', async () => {
    const path = freshPath();
    writeFileSync(path, 'a\nb\nc');
    const seen: string[] = [];
    const result = await readCompleteLines(path, { offset: 0, line: 1 }, (lines) => {
      seen.push(...lines.map((line) => line.text));
    });
    expect(seen).toEqual(['a', 'b']);
    expect(result).toEqual({ offset: 4, line: 3, partialBytes: 1 });
    appendFileSync(path, 'c\nd\n');
    const more: [number, string][] = [];
    await readCompleteLines(
      path,
      result,
      (lines) => void more.push(...lines.map((l): [number, string] => [l.line, l.text])),
      {
        chunkBytes: 2,
      },
    );
    expect(more).toEqual([
      [3, 'cc'],
      [4, 'd'],
    ]);
  });
});

describe('followFile', () => {
  it('delivers appended lines in order with line numbers, holding back a partial line until it is complete', async () => {
    const path = freshPath();
    writeFileSync(path, '{"a":1}\n');
    const { lines, follower, texts } = collect(path);
    await until(() => lines.length === 1, 'the first line');
    appendFileSync(path, '{"a":2}\n{"a":');
    await until(() => lines.length === 2, 'the second line');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(texts()).toEqual(['{"a":1}', '{"a":2}']); // the partial third line is held back
    appendFileSync(path, '3}\r\n');
    await until(() => lines.length === 3, 'the completed line');
    expect(texts()).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(lines.map((line) => [line.line, line.offset, line.generation])).toEqual([
      [1, 0, 0],
      [2, 8, 0],
      [3, 16, 0],
    ]);
    await follower.stop();
  });

  it('picks up lines from an EventLog writing in the same process', async () => {
    const path = freshPath();
    const log = new EventLog(path, { buffer: { flushEveryMs: 10 } });
    const { lines, follower } = collect(path, { watch: true });
    for (let id = 0; id < 500; id++) log.write({ id, value: NaN });
    await log.close();
    await until(() => lines.length === 500, '500 events');
    expect(lines.map((line) => line.text)).toEqual(
      Array.from({ length: 500 }, (_, id) => `{"id":${id},"value":NaN}`),
    );
    await follower.stop();
  });

  it('restarts from the start after truncation and reports it', async () => {
    const path = freshPath();
    writeFileSync(path, 'one\ntwo\nthree\n');
    const { lines, notices, follower, texts } = collect(path);
    await until(() => lines.length === 3, 'three lines');
    truncateSync(path, 0);
    appendFileSync(path, 'new\n');
    await until(() => lines.length === 4, 'the line after truncation');
    expect(texts()).toEqual(['one', 'two', 'three', 'new']);
    expect(lines[3]).toMatchObject({ line: 1, offset: 0, generation: 1 });
    expect(notices).toContainEqual({ kind: 'truncated', file: path, offset: 14, size: 4 });
    await follower.stop();
  });

  it('finishes the old file after a rotation (rename + new file), then reads the new one from 0', async () => {
    const path = freshPath();
    writeFileSync(path, 'old 1\n');
    const { lines, notices, follower, texts } = collect(path, { pollMs: 200, watch: false });
    await until(() => lines.length === 1, 'the first line');
    // Between two polls: the old file gets more lines (one cut short), is renamed, and a new file starts.
    appendFileSync(path, 'old 2\nold 3 cut');
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'new 1\nnew 2\n');
    await until(() => lines.length === 4, 'the new file');
    expect(texts()).toEqual(['old 1', 'old 2', 'new 1', 'new 2']);
    expect(lines.map((line) => [line.line, line.generation])).toEqual([
      [1, 0],
      [2, 0],
      [1, 1],
      [2, 1],
    ]);
    expect(notices).toEqual([
      { kind: 'partial-line', file: path, line: 3, offset: 12, bytes: 9 },
      { kind: 'rotated', file: path },
    ]);
    await follower.stop();
  });

  it('follows an EventLog through its own rotations without losing or repeating a line', async () => {
    const path = freshPath();
    const log = new EventLog(path, { rotate: { maxBytes: 1000, keep: 50 } });
    const { lines, follower } = collect(path, { pollMs: 5 });
    // At most one rotation between two reads (see docs/logging.md): wait for the reader after each round.
    for (let id = 0; id < 600;) {
      for (let k = 0; k < 30; k++) log.write({ id: id++ });
      await until(() => lines.length === id, `event ${id - 1}`);
    }
    await log.close();
    expect(lines.map((line) => JSON.parse(line.text).id)).toEqual(Array.from({ length: 600 }, (_, id) => id));
    expect(log.stats.rotations).toBeGreaterThan(5);
    expect(lines.at(-1)!.generation).toBe(log.stats.rotations);
    await follower.stop();
  });

  it('waits for a file that does not exist yet; starts at the end or the last N lines when asked', async () => {
    const path = freshPath();
    const waiting = collect(path, { from: 'end' });
    await until(() => waiting.notices.length === 1, 'the waiting notice');
    expect(waiting.notices).toEqual([{ kind: 'waiting', file: path }]);
    writeFileSync(path, 'a\nb\nc\nd\npartial');
    await until(() => waiting.lines.length === 4, 'the file to appear');
    await waiting.follower.stop();

    const fromEnd = collect(path, { from: 'end' });
    const lastTwo = collect(path, { from: { lastLines: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 60));
    appendFileSync(path, '-done\n');
    await until(() => fromEnd.lines.length === 1 && lastTwo.lines.length === 3, 'the new line');
    expect(fromEnd.lines.map((line) => [line.line, line.text])).toEqual([[5, 'partial-done']]);
    expect(lastTwo.texts()).toEqual(['c', 'd', 'partial-done']);
    expect(lastTwo.lines[0].line).toBe(3);
    await Promise.all([fromEnd.follower.stop(), lastTwo.follower.stop()]);
  });

  it('reads a BOM + CRLF file; reads in bounded chunks', async () => {
    const path = freshPath();
    writeFileSync(path, '\uFEFF{"x":1}\r\n{"x":2}\r\n');
    const { lines, follower, texts } = collect(path, { chunkBytes: 4 });
    await until(() => lines.length === 2, 'two lines');
    expect(texts()).toEqual(['{"x":1}', '{"x":2}']);
    await follower.stop();
  });

  it('stops on an abort signal, and rejects done when onLines throws', async () => {
    const path = freshPath();
    writeFileSync(path, 'x\n');
    const abort = new AbortController();
    const follower = followFile(path, () => undefined, { signal: abort.signal, pollMs: 10 });
    abort.abort();
    await expect(follower.done).resolves.toBeUndefined();
    const failing = followFile(
      path,
      () => {
        throw new Error('consumer broke');
      },
      { pollMs: 10 },
    );
    await expect(failing.done).rejects.toThrow('consumer broke');
    // stop() awaited from inside onLines does not deadlock.
    let calls = 0;
    const selfStopping = followFile(
      path,
      async () => {
        calls++;
        await selfStopping.stop();
      },
      { pollMs: 10 },
    );
    await selfStopping.done;
    expect(calls).toBe(1);
  });
});

describe('followLines', () => {
  it('is an async iterator with backpressure; breaking out stops the follower', async () => {
    const path = freshPath();
    writeFileSync(path, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const seen: string[] = [];
    setTimeout(() => appendFileSync(path, 'late\n'), 50);
    for await (const line of followLines(path, { pollMs: 10, chunkBytes: 64 })) {
      seen.push(line.text);
      if (line.text === 'late') break;
    }
    expect(seen).toHaveLength(101);
    expect(seen[0]).toBe('line 0');
  });
});

describe('runlens tail', () => {
  function io() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (data: Buffer) => (out += data.toString()));
    stderr.on('data', (data: Buffer) => (err += data.toString()));
    const abort = new AbortController();
    return { io: { stdout, stderr, signal: abort.signal }, abort, out: () => out, err: () => err };
  }

  it('prints summaries of existing and new events; reports bad lines with file:line and skips them', async () => {
    const path = freshPath();
    writeFileSync(
      path,
      [
        '{"task_name": "Store", "block": 7, "uids": [1, 2], "rewards": [0.5, NaN], "successful": [true, false], "best_uid": 1, "step_length": 2.5}',
        '{"broken',
        '',
      ].join('\n'),
    );
    const t = io();
    const done = tailEvents(path, { fromStart: true, pollMs: 10 }, t.io);
    await until(() => t.out().split('\n').length === 2, 'the first event');
    appendFileSync(
      path,
      '{"event":"system","time":1700000000,"cpu_percent":12.5,"rss_bytes":1048576,"gpus":[]}\n',
    );
    await until(() => t.out().split('\n').length === 3, 'the system event');
    t.abort.abort();
    await done;
    expect(t.out()).toBe(
      'block 7  Store  2 uids  ok 1/2  reward mean 0.5 max 0.5  best uid 1  step 2.5s\n' +
        '2023-11-14 22:13:20  system  cpu 12.5%  rss 1.0 MB\n',
    );
    expect(t.err()).toMatch(new RegExp(`^runlens tail: ${path}:2: not valid JSON \\(.*\\); skipped\\n$`));
  });

  it('shows record.extra of a loguru completions.log; --json prints the event line; --lines N', async () => {
    const sample = join(FORMATS, 'openvalidators', 'completions.log');
    const t = io();
    const done = tailEvents(sample, { lines: 1 }, t.io);
    await until(() => t.out() !== '', 'one event');
    t.abort.abort();
    await done;
    expect(t.out()).toMatch(
      /^2026-11-22 01:41:52 {2}block 1874001 {2}followup0 {2}50 uids {2}reward mean [0-9.]+ max/,
    );
    expect(t.out().trim().split('\n')).toHaveLength(1);

    const json = io();
    const jsonDone = tailEvents(sample, { json: true, fromStart: true }, json.io);
    await until(() => json.out().split('\n').length === 3, 'two events');
    json.abort.abort();
    await jsonDone;
    const first = json.out().split('\n')[0];
    expect(first.startsWith('{"name":"augment","block":1874000,')).toBe(true);
    expect(first).toContain('NaN');
  });
});
