import { SI_AXIS } from '../charts/axis.js';
import type { VegaLiteSpec } from '../render/index.js';
import type { AnalysisResult, CellValue } from './analysis-result.js';

/** Chart specs for `runlens analyze --plot`, one per analysis, from the result rows (already small). */

const WIDTH = 560;
const BLUE = '#0072B2';

function title(result: AnalysisResult, caption?: string) {
  return { text: result.title, subtitle: caption ?? result.notes[0] ?? '' };
}

function timeOf(value: CellValue): number | null {
  return typeof value === 'string' ? Date.parse(value.replace(' ', 'T')) : value;
}

function finite(value: CellValue): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function shorten(text: string, max = 48): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function axisFor(timeAxis: boolean, xTitle: string, field = 'start') {
  return timeAxis
    ? { field, type: 'temporal', title: xTitle, axis: { format: '%b %d %H:%M' } }
    : { field, type: 'quantitative', title: xTitle, scale: { zero: false }, axis: SI_AXIS };
}

export function throughputChart(
  result: AnalysisResult,
  o: { timeAxis: boolean; xTitle: string; caption: string },
): VegaLiteSpec {
  const values = result.rows.map((r) => ({ start: timeOf(r.start), end: timeOf(r.end), events: r.events }));
  return {
    title: title(result, o.caption),
    width: WIDTH,
    height: 260,
    data: { values },
    mark: { type: 'rect', color: BLUE },
    encoding: {
      x: axisFor(o.timeAxis, o.xTitle),
      x2: { field: 'end' },
      y: { field: 'events', type: 'quantitative', title: 'events', axis: { tickMinStep: 1, format: 'd' } },
    },
  } as unknown as VegaLiteSpec;
}

export function leaderboardChart(
  result: AnalysisResult,
  o: { keyName: string; sortColumn: string; metric: string },
): VegaLiteSpec {
  const values = result.rows.slice(0, 50).map((r, rank) => ({
    label: o.keyName === 'uid' ? `uid ${String(r.uid)}` : shorten(String(r.completion)),
    rank,
    value: finite(r[o.sortColumn]),
  }));
  return {
    title: title(result, `${values.length} of ${result.total ?? values.length} · finite values only`),
    height: Math.max(200, values.length * 17 + 100),
    data: { values },
    mark: { type: 'bar', color: BLUE },
    encoding: {
      y: {
        field: 'label',
        type: 'nominal',
        title: null,
        sort: { field: 'rank', order: 'ascending' },
        axis: { labelLimit: 220, labelOverlap: false },
      },
      x: {
        field: 'value',
        type: 'quantitative',
        title: o.sortColumn === 'calls' ? 'calls' : `${o.sortColumn} ${o.metric}`,
      },
    },
  } as unknown as VegaLiteSpec;
}

export function uidBarChart(
  result: AnalysisResult,
  o: { value: string; title: string; yTitle: string; percent: boolean; caption: string },
): VegaLiteSpec {
  const values = result.rows.map((r) => ({ uid: r.uid, v: finite(r[o.value]) }));
  return {
    title: { text: o.title, subtitle: `${o.caption} · ${values.length} uids` },
    width: WIDTH,
    height: 220,
    data: { values },
    mark: { type: 'bar', color: BLUE },
    encoding: {
      x: { field: 'uid', type: 'quantitative', title: 'uid', scale: { nice: false }, bin: false },
      y: {
        field: 'v',
        type: 'quantitative',
        title: o.yTitle,
        scale: { domain: [0, 1] },
        ...(o.percent ? { axis: { format: '%' } } : {}),
      },
    },
  } as unknown as VegaLiteSpec;
}

export function completionRatesChart(
  result: AnalysisResult,
  o: { timeAxis: boolean; xTitle: string; metric: string; caption: string },
): VegaLiteSpec {
  const values = result.rows.map((r) => ({
    start: timeOf(r.start),
    series: shorten(String(r.completion), 40),
    count: r.count,
    reward: finite(r.mean_reward),
  }));
  const x = axisFor(o.timeAxis, o.xTitle);
  const series = new Set(values.map((v) => v.series)).size;
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'completion',
    scale: { scheme: series > 10 ? 'tableau20' : 'tableau10' },
    legend: { labelLimit: 260, orient: 'bottom', columns: 2 },
  };
  return {
    title: title(result, o.caption),
    data: { values },
    vconcat: [
      {
        width: WIDTH,
        height: 170,
        mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' },
        encoding: {
          x,
          y: {
            field: 'count',
            type: 'quantitative',
            title: 'occurrences',
            axis: { tickMinStep: 1, format: 'd' },
          },
          color,
        },
      },
      {
        width: WIDTH,
        height: 130,
        mark: { type: 'line', strokeWidth: 1.2, point: { size: 8 } },
        encoding: { x, y: { field: 'reward', type: 'quantitative', title: `mean ${o.metric}` }, color },
      },
    ],
  } as unknown as VegaLiteSpec;
}

export function weightsChart(
  result: AnalysisResult,
  o: { first: string; uids: number[]; xTitle: string; kind: string; caption: string },
): VegaLiteSpec {
  const values = result.rows.flatMap((r) =>
    o.uids.map((uid) => ({ x: timeOf(r[o.first]), uid: String(uid), w: finite(r[`uid_${uid}`]) })),
  );
  const temporal = result.rows.some((r) => typeof r[o.first] === 'string');
  return {
    title: title(result, o.caption),
    width: WIDTH,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' },
    encoding: {
      x: axisFor(temporal, o.xTitle, 'x'),
      y: { field: 'w', type: 'quantitative', title: o.kind },
      color: {
        field: 'uid',
        type: 'nominal',
        title: 'uid',
        sort: o.uids.map(String),
        scale: { scheme: o.uids.length > 10 ? 'tableau20' : 'tableau10' },
        ...(o.uids.length > 12 ? { legend: null } : {}),
      },
    },
  } as unknown as VegaLiteSpec;
}

export function similarityChart(result: AnalysisResult, caption: string): VegaLiteSpec {
  const values = result.rows.flatMap((r) => [
    { a: r.uid_a, b: r.uid_b, shared: r.shared },
    { a: r.uid_b, b: r.uid_a, shared: r.shared },
  ]);
  const axis = (field: string, name: string) => ({
    field,
    type: 'quantitative',
    title: name,
    scale: { nice: false, zero: false },
  });
  return {
    title: title(result, caption),
    width: 504,
    height: 470,
    data: { values },
    mark: { type: 'square', size: 14, opacity: 0.9 },
    encoding: {
      x: axis('a', 'uid'),
      y: axis('b', 'uid'),
      color: { field: 'shared', type: 'quantitative', title: 'shared', scale: { scheme: 'viridis' } },
    },
  } as unknown as VegaLiteSpec;
}

/**
 * A fleet analysis as a uid × run heatmap of one value (mean reward, success rate): the uids of
 * `rows` in their order, one column per run; a uid one run rewards and the others do not stands out.
 */
export function fleetMatrixChart(
  rows: readonly Record<string, CellValue>[],
  o: {
    title: string;
    subtitle: string;
    runs: readonly string[];
    values: readonly { uid: number; run: string; value: number | null }[];
    colorTitle: string;
  },
): VegaLiteSpec {
  const order = new Map(rows.slice(0, 60).map((r, rank) => [Number(r.uid), rank]));
  const values = o.values
    .filter((v) => order.has(v.uid) && v.value !== null && Number.isFinite(v.value))
    .map((v) => ({ label: `uid ${v.uid}`, rank: order.get(v.uid)!, run: v.run, value: v.value }));
  return {
    title: { text: o.title, subtitle: o.subtitle, anchor: 'start' },
    autosize: { type: 'pad' },
    width: { step: o.runs.length > 12 ? 28 : 64 },
    height: { step: 16 },
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: {
        field: 'run',
        type: 'nominal',
        title: 'run',
        sort: [...o.runs],
        axis: { labelAngle: o.runs.length > 6 ? -45 : 0, labelLimit: 140 },
      },
      y: {
        field: 'label',
        type: 'nominal',
        title: null,
        sort: [...order.entries()].sort((a, b) => a[1] - b[1]).map(([uid]) => `uid ${uid}`),
        axis: { labelOverlap: false },
      },
      color: { field: 'value', type: 'quantitative', title: o.colorTitle, scale: { scheme: 'viridis' } },
    },
  } as unknown as VegaLiteSpec;
}
