import type { VegaLiteSpec } from '../render/index.js';

export interface UidPerformance {
  uid: number[];
  successRate: number[];
  /** Completion time quantiles per uid (p10, p25, median, p75, p90). */
  p10: number[];
  p25: number[];
  p50: number[];
  p75: number[];
  p90: number[];
  count: number[];
  /** When set, the quantiles come from this share of the completion times (a hashed sample, large runs). */
  quantileShare?: number;
}

/** Per-uid success rate (bars) above the per-uid completion time distribution (box: p25–p75, whiskers p10–p90, median tick). */
export function uidPerformanceSpec(perf: UidPerformance, options: { caption: string }): VegaLiteSpec {
  const values = perf.uid.map((uid, i) => ({
    uid,
    rate: perf.successRate[i],
    p10: nullable(perf.p10[i]),
    p25: nullable(perf.p25[i]),
    p50: nullable(perf.p50[i]),
    p75: nullable(perf.p75[i]),
    p90: nullable(perf.p90[i]),
  }));
  const x = { field: 'uid', type: 'quantitative', title: 'uid', scale: { nice: false } };
  return {
    title: { text: 'Success rate and completion time per uid', subtitle: options.caption },
    data: { values },
    vconcat: [
      {
        width: 560,
        height: 110,
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x,
          y: {
            field: 'rate',
            type: 'quantitative',
            title: 'success rate',
            scale: { domain: [0, 1] },
            axis: { format: '%' },
          },
        },
      },
      {
        width: 560,
        height: 150,
        layer: [
          {
            mark: { type: 'rule', color: '#888' },
            encoding: {
              x,
              y: { field: 'p10', type: 'quantitative', title: 'completion time (s)' },
              y2: { field: 'p90' },
            },
          },
          {
            mark: { type: 'bar', color: '#f58518', opacity: 0.8 },
            encoding: { x, y: { field: 'p25', type: 'quantitative' }, y2: { field: 'p75' } },
          },
          {
            mark: { type: 'tick', color: '#222', thickness: 1 },
            encoding: { x, y: { field: 'p50', type: 'quantitative' } },
          },
        ],
      },
    ],
  } as unknown as VegaLiteSpec;
}

function nullable(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
