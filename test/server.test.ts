import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/server/app.js';
import type {
  BinsResponse,
  LiveStateEvent,
  LiveUpdateEvent,
  RunsResponse,
  SummaryResponse,
} from '../src/server/api-types.js';
import { drained } from '../src/server/node-adapter.js';
import { discoverRuns } from '../src/server/run-catalog.js';
import { startServer } from '../src/server/serve.js';
import { serveDirectory } from '../src/cli/serve.js';
import { WorkQueue } from '../src/server/work-queue.js';
import { simulate } from '../src/simulate/index.js';
import { validatorLine, writeMetricsLog, writeValidatorLog } from './helpers/dashboard-runs.js';
import { tempDir } from './helpers/temp.js';

const SPIKE_BLOCK = 1234;

/** The served tree: two validator runs, a metrics log, and a symlink that points outside. */
function servedTree(): { root: string; outside: string } {
  const base = tempDir('runlens-serve-');
  const root = path.join(base, 'runs');
  const outside = path.join(base, 'outside');
  writeValidatorLog(path.join(root, 'validator-a', 'events.json'), 500, { spikeBlock: SPIKE_BLOCK });
  writeValidatorLog(path.join(root, 'validator-b', 'events.json'), 200, { start: 5000 });
  writeMetricsLog(path.join(root, 'training', 'metrics.jsonl'), 100);
  writeMetricsLog(path.join(outside, 'secret.jsonl'), 10);
  fs.symlinkSync(path.join(outside, 'secret.jsonl'), path.join(root, 'training', 'leak.jsonl'));
  fs.symlinkSync(outside, path.join(root, 'outside-link'));
  return { root, outside };
}

function request(app: App, target: string, init: RequestInit = {}, info = {}): Promise<Response> {
  return app.fetch(new Request(`http://localhost${target}`, init), info);
}

async function getJson<T>(app: App, target: string): Promise<{ status: number; body: T }> {
  const res = await request(app, target);
  return { status: res.status, body: (await res.json()) as T };
}

/** Asks for the summary until all of the run is indexed (the first ask starts indexing: 202). */
async function waitReady(app: App, id: string): Promise<SummaryResponse> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status, body } = await getJson<SummaryResponse>(
      app,
      `/api/summary?run=${encodeURIComponent(id)}`,
    );
    if (status === 200 && !body.partial) return body;
    expect([200, 202]).toContain(status);
    if (Date.now() > deadline) throw new Error(`run ${id} not ready: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runlens serve API (in-process)', () => {
  let app: App;
  let root: string;

  beforeAll(() => {
    ({ root } = servedTree());
    app = createApp({ root, pollMs: 100, log: () => {} });
  });
  afterAll(() => app.close());

  it('lists the runs under the directory, never what a symlink points at', async () => {
    const { status, body } = await getJson<RunsResponse>(app, '/api/runs');
    expect(status).toBe(200);
    expect(body.runs.map((r) => r.id)).toEqual(['training', 'validator-a', 'validator-b']);
    const a = body.runs.find((r) => r.id === 'validator-a')!;
    expect(a).toMatchObject({
      kind: 'directory',
      files: 1,
      profile: 'filetao',
      profileGuessed: true,
      state: 'closed',
      rows: null,
    });
    expect(a.bytes).toBe(fs.statSync(path.join(root, 'validator-a', 'events.json')).size);
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(JSON.stringify(body)).not.toContain('leak');
  });

  it('opens a run lazily (202 with state, then the summary and its charts)', async () => {
    const first = await getJson<{ state: string }>(app, '/api/summary?run=validator-a');
    expect([200, 202]).toContain(first.status);
    const summary = await waitReady(app, 'validator-a');
    expect(summary).toMatchObject({ id: 'validator-a', profile: 'filetao', rows: 500, uidRows: 2000 });
    expect(summary.x).toMatchObject({ label: 'block', min: 1000, max: 1499 });
    expect(summary.tasks).toEqual(['Challenge', 'Store']);
    const metrics = summary.metrics.map((m) => `${m.table}:${m.name}`);
    expect(metrics).toEqual(
      expect.arrayContaining(['events:step_length', 'uid_events:rewards', 'uid_events:completion_times']),
    );
    expect(metrics).not.toContain('uid_events:uid');
    const charts = summary.charts.map((c) => c.id);
    expect(charts).toEqual(
      expect.arrayContaining([
        'scatter:rewards',
        'scatter3d:rewards',
        'heatmap:scores',
        'heatmap:weights',
        'line:events:step_length',
      ]),
    );
    const runs = (await getJson<RunsResponse>(app, '/api/runs')).body.runs;
    expect(runs.find((r) => r.id === 'validator-a')).toMatchObject({
      state: 'ready',
      rows: 500,
      profileGuessed: false,
    });
  });

  it('bins a metric exactly over every row: a one-row spike survives as its bin max', async () => {
    await waitReady(app, 'validator-a');
    const { status, body } = await getJson<BinsResponse>(
      app,
      '/api/bins?run=validator-a&metric=step_length&bins=10',
    );
    expect(status).toBe(200);
    expect(body.bins.count).toBe(10);
    const series = body.series[0];
    expect(series.count.reduce((a, b) => a + b, 0)).toBe(500);
    expect(Math.max(...series.max.map((v) => v ?? -Infinity))).toBe(1000);
    expect(Math.min(...series.min.map((v) => v ?? Infinity))).toBe(10);
    const perUid = await getJson<BinsResponse>(
      app,
      '/api/bins?run=validator-a&metric=rewards&table=uid_events&bins=5&group=task',
    );
    expect(perUid.status).toBe(200);
    expect(perUid.body.series.map((s) => s.group)).toEqual(['Challenge', 'Store']);
    expect(perUid.body.rows).toBe(2000);
    const zoomed = await getJson<BinsResponse>(
      app,
      '/api/bins?run=validator-a&metric=step_length&bins=10&xmin=1200&xmax=1299',
    );
    expect(zoomed.body.rows).toBe(100);
  });

  it('an unknown metric is a 400 that lists the valid ones', async () => {
    await waitReady(app, 'validator-a');
    const res = await request(app, '/api/bins?run=validator-a&metric=nope');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { error: { message: string; valid: string[] } };
    expect(body.error.message).toContain('unknown metric "nope"');
    expect(body.error.valid).toContain('step_length');
    // Not a column of this table, and SQL is never accepted in its place.
    for (const metric of ['rewards', 'step_length" FROM rows; --', 'file_id', 'rec'])
      expect(
        (await request(app, `/api/bins?run=validator-a&metric=${encodeURIComponent(metric)}`)).status,
      ).toBe(400);
  });

  it('serves the reservoir sample, heatmaps and positions answers', async () => {
    await waitReady(app, 'validator-a');
    const sample = await getJson<{ size: number; population: number; uid: number[] }>(
      app,
      '/api/sample?run=validator-a&metric=rewards&size=100&seed=3',
    );
    expect(sample.status).toBe(200);
    expect(sample.body).toMatchObject({ size: 100, population: 2000 });
    const again = await getJson<{ uid: number[] }>(
      app,
      '/api/sample?run=validator-a&metric=rewards&size=100&seed=3',
    );
    expect(again.body.uid).toEqual(sample.body.uid);
    const scores = await getJson<{ uids: number[]; z: number[][] }>(
      app,
      '/api/heatmap?run=validator-a&kind=scores&bins=20',
    );
    expect(scores.status).toBe(200);
    expect(scores.body.uids).toEqual([0, 1, 2, 3, 4, 5, 6, 10, 11, 12]);
    expect(scores.body.z[0]).toHaveLength(20);
    expect((await request(app, '/api/heatmap?run=validator-a&kind=weights&bins=20')).status).toBe(200);
    expect((await request(app, '/api/positions?run=validator-a')).status).toBe(404);
  });

  it('rejects path traversal in every spelling with 4xx', async () => {
    const attempts = [
      '/api/summary?run=..',
      '/api/summary?run=../runs/validator-a',
      '/api/summary?run=validator-a/../../outside',
      '/api/summary?run=%2e%2e%2foutside',
      '/api/summary?run=%252e%252e%252foutside',
      '/api/summary?run=.%2E/outside',
      `/api/summary?run=${encodeURIComponent(path.join(root, 'validator-a'))}`,
      '/api/summary?run=%2Fetc%2Fpasswd',
      '/api/summary?run=C:%5Cwindows',
      '/api/summary?run=outside-link',
      '/api/summary?run=outside-link/secret.jsonl',
      '/api/summary?run=training/leak.jsonl',
      '/api/export?run=..%2F..%2Fetc&format=csv',
      '/api/chart?run=../x&chart=heatmap:scores',
    ];
    for (const target of attempts) {
      const res = await request(app, target);
      expect(res.status, target).toBeGreaterThanOrEqual(400);
      expect(res.status, target).toBeLessThan(500);
      expect(await res.text(), target).not.toContain('accuracy'); // nothing of any log's content
    }
    // The request path itself, as received (before URL normalisation would quietly resolve `..`).
    for (const raw of [
      '/../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/a\\..\\b',
    ])
      expect((await request(app, '/x', {}, { rawTarget: raw })).status, raw).toBe(400);
    expect((await request(app, '/assets/../../package.json')).status).toBe(404);
  });

  it('rejects malformed and oversized requests with clear 4xx JSON', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/api/bins?run=validator-a&metric=step_length&bins=abc', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&bins=0', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&bins=99999', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&xmin=NaN', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&table=rows', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&metric=rewards', {}, 400],
      ['/api/bins?run=validator-a&metric=step_length&sql=select', {}, 400],
      ['/api/bins?metric=step_length', {}, 400],
      ['/api/summary?run=no-such-run', {}, 404],
      ['/api/nothing', {}, 404],
      ['/api/export?run=validator-a&format=xlsx', {}, 400],
      ['/api/chart?run=validator-a&chart=nope&format=png', {}, 400],
      ['/api/runs', { method: 'POST', body: 'x' }, 405],
      ['/api/runs', { method: 'DELETE' }, 405],
      ['/api/runs', { method: 'POST', body: 'x'.repeat(100_000) }, 413],
      ['/api/runs', { headers: { 'content-length': '99999999' } }, 413],
      ['/api/runs', { headers: { 'content-length': 'abc' } }, 400],
      [`/api/runs?${'a'.repeat(5000)}=1`, {}, 414],
      ['/api/runs', { headers: { host: 'evil.example' } }, 200], // in-process app: no host list given
    ];
    await waitReady(app, 'validator-a');
    for (const [target, init, status] of cases) {
      const res = await request(app, target, init);
      expect(res.status, target).toBe(status);
      if (status >= 400) {
        const body = (await res.json()) as { error: { status: number; message: string } };
        expect(body.error.status, target).toBe(status);
        expect(body.error.message.length, target).toBeGreaterThan(5);
      }
    }
    // A chunked upload is counted as it arrives.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    const res = await request(app, '/api/runs', {
      method: 'POST',
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('renders any chart as PNG, SVG and PDF with the CLI renderer', async () => {
    await waitReady(app, 'validator-a');
    const png = await request(
      app,
      '/api/chart?run=validator-a&chart=line:events:step_length&format=png&dpi=72',
    );
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toContain('validator-a_line-events-step_length.png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const svg = await request(app, '/api/chart?run=validator-a&chart=heatmap:scores&format=svg');
    expect(await svg.text()).toMatch(/^<svg/);
    const pdf = await request(app, '/api/chart?run=validator-a&chart=scatter:rewards&format=pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });

  it('a chart download draws the view on the screen: zoom, smoothing, split by task, log y, min–max band', async () => {
    await waitReady(app, 'validator-a');
    const svgOf = async (query: string) => {
      const res = await request(
        app,
        `/api/chart?run=validator-a&chart=line:events:step_length&format=svg${query}`,
      );
      expect(res.status).toBe(200);
      return res.text();
    };
    const texts = (svg: string) => [...svg.matchAll(/>([^<>]+)<\/(?:text|tspan)>/g)].map((m) => m[1]);
    const plain = texts(await svgOf(''));
    expect(plain.join(' ')).toContain('band min–max');
    const view = texts(await svgOf('&xmin=1100&xmax=1200&smoothing=mean&window=5&group=task&log=1'));
    const caption = view.join(' ');
    expect(caption).toContain('x 1,100 … 1,200');
    expect(caption).toContain('running mean over 5 bins');
    expect(caption).toContain('log y');
    // Split by task: a legend with the run's tasks; the x axis is the zoom's range.
    expect(view).toEqual(expect.arrayContaining(['Challenge', 'Store']));
    const xTicks = view.filter((t) => /^1,[12]\d\d$/.test(t)).map((t) => Number(t.replace(',', '')));
    expect(xTicks.length).toBeGreaterThan(2);
    expect(Math.min(...xTicks)).toBeGreaterThanOrEqual(1100);
    expect(Math.max(...xTicks)).toBeLessThanOrEqual(1200);
    const bad = await request(
      app,
      '/api/chart?run=validator-a&chart=line:events:step_length&smoothing=median',
    );
    expect(bad.status).toBe(400);
  });

  it('exports the run as CSV, JSON lines and Parquet', async () => {
    await waitReady(app, 'validator-a');
    const csv = await (await request(app, '/api/export?run=validator-a&format=csv')).text();
    const lines = csv.trim().split('\n');
    expect(lines).toHaveLength(501);
    expect(lines[0].split(',')).toEqual(
      expect.arrayContaining(['file', 'block', 'step_length', 'x', 'task']),
    );
    const jsonl = await request(app, '/api/export?run=validator-a&format=jsonl&table=uid_events');
    expect(jsonl.headers.get('content-disposition')).toContain('validator-a_uid_events.jsonl');
    const rows = (await jsonl.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(2000);
    expect(rows[0]).toMatchObject({ file: 'events.json', x: 1000, pos: 0, uid: 6 });
    const parquet = Buffer.from(
      await (await request(app, '/api/export?run=validator-a&format=parquet')).arrayBuffer(),
    );
    expect(parquet.subarray(0, 4).toString()).toBe('PAR1');
  });

  it('streams a live update over SSE after lines are appended', async () => {
    const log = path.join(root, 'validator-b', 'events.json');
    const res = await request(app, '/api/live?run=validator-b');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const waitFor = async (pattern: RegExp, ms: number): Promise<RegExpMatchArray> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${pattern} in ${text}`);
        const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(r, left))]);
        if (chunk && !chunk.done) text += decoder.decode(chunk.value, { stream: true });
      }
    };
    await waitFor(/event: state\ndata: \{[^\n]*"state":"ready"/, 30_000);
    const before = (await getJson<BinsResponse>(app, '/api/bins?run=validator-b&metric=step_length&bins=50'))
      .body.rows;
    expect(before).toBe(200);
    fs.appendFileSync(log, validatorLine(5200) + validatorLine(5201) + '{"task_name": "Sto');
    const started = Date.now();
    const update = await waitFor(/event: update\ndata: (\{[^\n]*\})/, 5_000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(update[1])).toMatchObject({ id: 'validator-b', newRows: 2, rows: 202 });
    const after = await getJson<BinsResponse>(app, '/api/bins?run=validator-b&metric=step_length&bins=50');
    expect(after.body.rows).toBe(202);
    expect(after.body.version).toBeGreaterThan(0);
    await reader.cancel();
  });

  it('rate-limits each client', async () => {
    const limited = createApp({ root, rateLimit: { burst: 5, perSecond: 1 }, log: () => {} });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await request(limited, '/api/runs', {}, { ip: '10.0.0.1' })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const res = await request(limited, '/api/runs', {}, { ip: '10.0.0.1' });
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('too many requests');
      expect((await request(limited, '/api/runs', {}, { ip: '10.0.0.2' })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('serves only the built front end, with an error page for browsers', async () => {
    const web = tempDir('runlens-web-');
    fs.mkdirSync(path.join(web, 'assets'));
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>runlens</title>');
    fs.writeFileSync(path.join(web, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(web, '.secret'), 'x');
    fs.symlinkSync(path.join(root, 'validator-a', 'events.json'), path.join(web, 'assets', 'link.js'));
    const withWeb = createApp({ root, webRoot: web, log: () => {} });
    try {
      const index = await request(withWeb, '/');
      expect(index.status).toBe(200);
      expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await index.text()).toContain('<title>runlens</title>');
      const js = await request(withWeb, '/assets/app.js');
      expect(js.headers.get('content-type')).toContain('text/javascript');
      expect(js.headers.get('cache-control')).toContain('immutable');
      expect((await request(withWeb, '/.secret')).status).toBe(404);
      expect((await request(withWeb, '/assets/link.js')).status).toBe(404);
      const page = await request(withWeb, '/nope.html', { headers: { accept: 'text/html' } });
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('404');
    } finally {
      await withWeb.close();
    }
  });
});

/** The server-sent events of one run's live stream, as they arrive; `stop` cancels the stream. */
async function liveEvents(
  app: App,
  id: string,
  onEvent: (
    event: { type: 'state'; data: LiveStateEvent } | { type: 'update'; data: LiveUpdateEvent },
  ) => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const res = await request(app, `/api/live?run=${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let text = '';
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`live stream of ${id} did not finish: ${text.slice(-500)}`);
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(r, left))]);
      if (!chunk) continue;
      if (chunk.done) throw new Error(`live stream of ${id} ended: ${text.slice(-500)}`);
      text += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const type = /^event: (\w+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (
          (type === 'state' || type === 'update') &&
          data &&
          (await onEvent({ type, data: JSON.parse(data) }))
        )
          return;
      }
    }
  } finally {
    await reader.cancel();
  }
}

describe('runlens serve with the run index', () => {
  it('a restart on a cached run answers without reading the log again, then reads only what was appended', async () => {
    const root = path.join(tempDir('runlens-serve-cache-'), 'runs');
    const cache = tempDir('runlens-serve-cache-dir-');
    const log = path.join(root, 'validator', 'events.json');
    writeValidatorLog(log, 300);
    const first = createApp({ root, cache, log: () => {} });
    let bins: BinsResponse;
    try {
      const summary = await waitReady(first, 'validator');
      expect(summary).toMatchObject({ rows: 300, cached: true, partial: null });
      expect(summary.bytesRead).toBe(fs.statSync(log).size);
      bins = (
        await getJson<BinsResponse>(first, '/api/bins?run=validator&metric=rewards&table=uid_events&bins=7')
      ).body;
    } finally {
      await first.close();
    }
    const second = createApp({ root, cache, log: () => {} });
    try {
      const summary = await waitReady(second, 'validator');
      expect(summary).toMatchObject({ rows: 300, uidRows: 1200, cached: true, bytesRead: 0 });
      const again = await getJson<BinsResponse>(
        second,
        '/api/bins?run=validator&metric=rewards&table=uid_events&bins=7',
      );
      expect({ ...again.body, version: 0 }).toEqual({ ...bins, version: 0 });
    } finally {
      await second.close();
    }
    const appended = validatorLine(1300) + validatorLine(1301);
    fs.appendFileSync(log, appended);
    const third = createApp({ root, cache, log: () => {} });
    try {
      const summary = await waitReady(third, 'validator');
      expect(summary).toMatchObject({ rows: 302, bytesRead: Buffer.byteLength(appended) });
    } finally {
      await third.close();
    }
  });

  it('runlens serve --cache-dir keeps run indexes there, --no-cache in temporary ones', async () => {
    const root = path.join(tempDir('runlens-serve-cli-'), 'runs');
    writeValidatorLog(path.join(root, 'validator', 'events.json'), 30);
    const cacheDir = tempDir('runlens-serve-cli-cache-');
    for (const [options, cached] of [
      [{ cacheDir }, true],
      [{ cacheDir, cache: false }, false],
    ] as const) {
      const server = await serveDirectory(root, { port: 0, host: '127.0.0.1', ...options });
      try {
        expect(await waitReady(server.app, 'validator')).toMatchObject({ rows: 30, cached });
      } finally {
        await server.close();
      }
    }
    expect(fs.readdirSync(cacheDir).length).toBeGreaterThan(0);
  });

  it('--no-cache (cache: false) reads into a temporary index', async () => {
    const root = path.join(tempDir('runlens-serve-nocache-'), 'runs');
    writeValidatorLog(path.join(root, 'validator', 'events.json'), 50);
    const app = createApp({ root, cache: false, log: () => {} });
    try {
      expect(await waitReady(app, 'validator')).toMatchObject({ rows: 50, cached: false });
    } finally {
      await app.close();
    }
  });

  it('charts what is indexed so far while a large log is read in parts, marked partial, then all of it', async () => {
    const root = tempDir('runlens-serve-partial-');
    await simulate('filetao', { out: path.join(root, 'big'), size: '12MB', uids: 64, seed: 5 });
    const log = path.join(root, 'big', 'events.json');
    const bytes = fs.statSync(log).size;
    // Parts of 1 MB: about a dozen, each committed and charted before the next is read.
    const app = createApp({
      root,
      cache: tempDir('runlens-serve-partial-cache-'),
      chunkBytes: 1 << 20,
      log: () => {},
    });
    const partials: { summary: SummaryResponse; bins: BinsResponse }[] = [];
    const id = 'big';
    const run = `run=${encodeURIComponent(id)}`;
    try {
      let complete = false;
      await liveEvents(app, id, async (event) => {
        if (event.type === 'state' && event.data.state === 'ready') complete = true;
        if (event.type === 'update' && event.data.partial && partials.length < 3) {
          const summary = await getJson<SummaryResponse>(app, `/api/summary?${run}`);
          const bins = await getJson<BinsResponse>(
            app,
            `/api/bins?${run}&metric=rewards&table=uid_events&bins=20`,
          );
          expect(summary.status).toBe(200);
          expect(bins.status).toBe(200);
          if (summary.body.partial) partials.push({ summary: summary.body, bins: bins.body });
        }
        return complete;
      });
      expect(partials.length).toBeGreaterThan(0);
      const full = await waitReady(app, id);
      expect(full.partial).toBeNull();
      const fullBins = (
        await getJson<BinsResponse>(app, `/api/bins?${run}&metric=rewards&table=uid_events&bins=20`)
      ).body;
      expect(fullBins.partial).toBe(false);
      expect(fullBins.rows).toBeGreaterThan(0.9 * full.uidRows); // rewards of every answered uid
      expect(fullBins.rows).toBeLessThanOrEqual(full.uidRows);
      for (const { summary, bins } of partials) {
        const partial = summary.partial!;
        expect(summary.rows).toBe(partial.rows);
        expect(partial.rows).toBeGreaterThan(0);
        expect(partial.rows).toBeLessThan(full.rows);
        expect(partial.bytesRead).toBeLessThan(bytes);
        expect(partial.bytesTotal).toBe(bytes);
        // Events per byte are about even through a simulated log: the estimate is close.
        expect(Math.abs(partial.estimatedRows - full.rows) / full.rows).toBeLessThan(0.2);
        expect(bins.partial).toBe(true);
        expect(bins.rows).toBeGreaterThan(0);
        expect(bins.rows).toBeLessThanOrEqual(summary.uidRows);
        expect(bins.rows).toBeLessThan(fullBins.rows);
      }
      // Downloads are of the whole run: while it is read they wait (202); now they are there.
      const png = await request(app, `/api/chart?${run}&chart=line:events:step_length&format=svg`);
      expect(png.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('keeps at most maxOpenRuns open (least recently used closed) and answers the same after reopening', async () => {
    const root = path.join(tempDir('runlens-serve-lru-'), 'runs');
    writeValidatorLog(path.join(root, 'a', 'events.json'), 120);
    writeValidatorLog(path.join(root, 'b', 'events.json'), 80, { start: 3000 });
    writeMetricsLog(path.join(root, 'c', 'metrics.jsonl'), 60);
    const app = createApp({
      root,
      cache: tempDir('runlens-serve-lru-cache-'),
      maxOpenRuns: 2,
      log: () => {},
    });
    const target = '/api/bins?run=a&metric=rewards&table=uid_events&bins=9';
    try {
      await waitReady(app, 'a');
      const before = (await getJson<BinsResponse>(app, target)).body;
      await waitReady(app, 'b');
      expect(app.registry.openRuns()).toEqual(['a', 'b']);
      await waitReady(app, 'c');
      expect(app.registry.openRuns()).toEqual(['b', 'c']);
      const reopened = await waitReady(app, 'a');
      expect(reopened).toMatchObject({ rows: 120, bytesRead: 0 });
      expect(app.registry.openRuns()).toEqual(['c', 'a']);
      const after = await getJson<BinsResponse>(app, target);
      expect(after.status).toBe(200);
      expect(after.body.version).not.toBe(before.version);
      expect({ ...after.body, version: 0 }).toEqual({ ...before, version: 0 });
    } finally {
      await app.close();
    }
  });

  it('closes a run nobody has asked anything of for a while, and reopens it when asked', async () => {
    const root = path.join(tempDir('runlens-serve-idle-'), 'runs');
    writeMetricsLog(path.join(root, 'm', 'metrics.jsonl'), 40);
    const app = createApp({
      root,
      cache: tempDir('runlens-serve-idle-cache-'),
      idleCloseMs: 150,
      log: () => {},
    });
    try {
      await waitReady(app, 'm');
      expect(app.registry.openRuns()).toEqual(['m']);
      const deadline = Date.now() + 5_000;
      while (app.registry.openRuns().length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(app.registry.openRuns()).toEqual([]);
      const bins = await getJson<BinsResponse>(app, '/api/bins?run=m&metric=loss&bins=4');
      expect(bins.status).toBe(202);
      expect((await waitReady(app, 'm')).bytesRead).toBe(0);
      expect((await getJson<BinsResponse>(app, '/api/bins?run=m&metric=loss&bins=4')).body.rows).toBe(40);
    } finally {
      await app.close();
    }
  });
});

describe('runlens serve on a port', () => {
  it('binds to loopback, answers only its own host names, rejects raw `..` targets', async () => {
    const { root } = servedTree();
    const server = await startServer({ root, port: 0, log: () => {} });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const ok = await fetch(`${server.url}api/runs`);
      expect(ok.status).toBe(200);
      const port = new URL(server.url).port;
      const raw = async (lines: string[]): Promise<string> =>
        new Promise((resolve, reject) => {
          const socket = net.connect(Number(port), '127.0.0.1');
          let data = '';
          socket.on('data', (d) => (data += d.toString()));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
          socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        });
      expect(
        await raw(['GET /../../etc/passwd HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Connection: close']),
      ).toMatch(/^HTTP\/1\.1 400/);
      expect(
        await raw([
          'GET /api/summary?run=../../etc HTTP/1.1',
          `Host: localhost:${port}`,
          'Connection: close',
        ]),
      ).toMatch(/^HTTP\/1\.1 400/);
      expect(await raw(['GET /api/runs HTTP/1.1', 'Host: attacker.example', 'Connection: close'])).toMatch(
        /^HTTP\/1\.1 421/,
      );
    } finally {
      await server.close();
    }
  });
});

describe('discoverRuns', () => {
  it('one run per RL run directory, per rotated log, per numbered series; single files otherwise', () => {
    const root = tempDir('runlens-catalog-');
    const touch = (p: string, text = '{"a": 1}\n'): void => {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), text);
    };
    touch('experiments/v4/20250101_120000/json_logs/stats_1.json', '[{"total_steps": 1}]');
    touch('experiments/v4/20250101_120000/json_logs/stats_final_2.json', '[{"total_steps": 2}]');
    touch('experiments/v4/20250101_120000/v4.yaml', 'x: 1');
    touch('validator/events.json');
    touch('validator/events.json.1');
    touch('validator/events.json.2.gz');
    touch('wandb/history.jsonl');
    touch('wandb/completions.log');
    touch('shards/part-1.jsonl');
    touch('shards/part-2.jsonl');
    touch('.hidden/x.jsonl');
    touch('plots/x.json');
    touch('mixed/top.jsonl');
    touch('mixed/sub/deeper.csv', 'a,b\n1,2\n');
    const runs = discoverRuns(root);
    expect(runs.map((r) => [r.id, r.kind, r.files])).toEqual([
      ['experiments/v4/20250101_120000', 'directory', 2],
      ['mixed/sub', 'directory', 1],
      ['mixed/top.jsonl', 'file', 1],
      ['shards', 'directory', 2],
      ['validator', 'directory', 3],
      ['wandb/completions.log', 'file', 1],
      ['wandb/history.jsonl', 'file', 1],
    ]);
    expect(runs[0].profile).toBe('rl');
    // Served from inside: the RL run directory itself is the one run.
    expect(
      discoverRuns(path.join(root, 'experiments/v4/20250101_120000')).map((r) => [r.id, r.files]),
    ).toEqual([['.', 2]]);
    expect(discoverRuns(path.join(root, 'validator/events.json')).map((r) => [r.id, r.kind])).toEqual([
      ['events.json', 'file'],
    ]);
  });
});

describe('WorkQueue', () => {
  it('runs one task at a time, quick ones before heavy ones queued earlier, overdue heavy ones first', async () => {
    // A controlled clock and hand-released tasks: the order depends on the rules, not on timing.
    let clock = 0;
    const queue = new WorkQueue(50, () => clock);
    const order: string[] = [];
    const release = new Map<string, () => void>();
    let running = 0;
    let maxRunning = 0;
    const task =
      (name: string, held = false) =>
      () =>
        new Promise<string>((resolve) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          const finish = (): void => {
            running--;
            order.push(name);
            resolve(name);
          };
          if (held) release.set(name, finish);
          else setImmediate(finish);
        });
    const first = queue.run(task('running', true), { heavy: true });
    const heavy = queue.run(task('heavy'), { heavy: true });
    const quick = queue.run(task('quick'));
    clock = 30; // not yet overdue
    release.get('running')!();
    await Promise.all([first, heavy, quick]);
    expect(order).toEqual(['running', 'quick', 'heavy']);
    order.length = 0;
    const blocker = queue.run(task('blocker', true));
    const late = queue.run(task('late-heavy'), { heavy: true });
    clock = 100; // the heavy task has now waited longer than 50
    const quick2 = queue.run(task('quick-2'));
    release.get('blocker')!();
    await Promise.all([blocker, late, quick2]);
    expect(order).toEqual(['blocker', 'late-heavy', 'quick-2']);
    expect(maxRunning).toBe(1);
  });
});

describe('streaming a response to a slow client', () => {
  it('waits for each drain without piling up listeners on the response (no MaxListenersExceededWarning)', async () => {
    const waits: { close: number; drain: number }[] = [];
    const server = http.createServer((_req, res) => {
      void (async () => {
        const chunk = Buffer.alloc(64 * 1024, 120);
        for (let i = 0; i < 256; i++)
          if (!res.write(chunk)) {
            await drained(res);
            waits.push({ close: res.listenerCount('close'), drain: res.listenerCount('drain') });
          }
        res.end();
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      const reader = response.body!.getReader();
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(received).toBe(256 * 64 * 1024);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(waits.length).toBeGreaterThan(10);
    expect(new Set(waits.map((w) => w.close)).size).toBe(1);
    expect(Math.max(...waits.map((w) => w.drain))).toBe(0);
  });
});

describe('a wandb history over relative or wall time', () => {
  it('offers _runtime and _timestamp as x; bins, zooms and downloads in that unit; per-uid lines stay on the run x', async () => {
    const root = tempDir('runlens-serve-wandb-');
    const start = 1_714_560_000; // 2024-05-01T10:40:00Z
    let text = '';
    for (let step = 0; step < 300; step++)
      text += `${JSON.stringify({ _step: step, _runtime: step * 2.5, _timestamp: start + step * 2.5, loss: 1 / (step + 1), uids: [1, 2], rewards: [step, step + 1] })}\n`;
    fs.mkdirSync(path.join(root, 'wandb'));
    fs.writeFileSync(path.join(root, 'wandb', 'history.jsonl'), text);
    const app = createApp({ root, pollMs: 100, log: () => {} });
    try {
      const runs = await getJson<RunsResponse>(app, '/api/runs');
      expect(runs.body.runs).toHaveLength(1);
      const id = encodeURIComponent(runs.body.runs[0].id);
      const summary = await waitReady(app, runs.body.runs[0].id);
      expect(summary.x.label).toBe('_step');
      expect(summary.xAxes).toEqual(['runtime', 'time']);
      const base = `/api/bins?run=${id}&metric=loss&bins=50`;
      const byStep = await getJson<BinsResponse>(app, base);
      expect(byStep.body).toMatchObject({ xAxis: 'default', xLabel: '_step' });
      const byRuntime = await getJson<BinsResponse>(app, `${base}&xaxis=runtime`);
      expect(byRuntime.body).toMatchObject({ xAxis: 'runtime', xLabel: '_runtime (s)', rows: 300 });
      expect(Math.max(...byRuntime.body.series[0].x)).toBeGreaterThan(700);
      const zoomed = await getJson<BinsResponse>(
        app,
        `${base}&xaxis=time&xmin=${start + 100}&xmax=${start + 200}`,
      );
      expect(zoomed.body.xLabel).toBe('_timestamp (UTC)');
      expect(zoomed.body.rows).toBe(41); // 2.5 s apart: 100 … 200 s holds steps 40 … 80
      for (const x of zoomed.body.series[0].x) expect(x).toBeGreaterThanOrEqual(start + 100);
      const perUid = await request(app, `/api/bins?run=${id}&metric=rewards&table=uid_events&xaxis=time`);
      expect(perUid.status).toBe(400);
      const svg = await (
        await request(app, `/api/chart?run=${id}&chart=line:events:loss&format=svg&xaxis=time`)
      ).text();
      expect(svg).toContain('_timestamp (UTC)');
      expect(svg).toMatch(/2024-05-01 1\d:\d\d/);
    } finally {
      await app.close();
    }
  });
});
