import type { VegaLiteSpec } from '../render/index.js';

export interface UidScatterOptions {
  /** Column-major sample with `x`, `uid`, `task` and the value column. */
  sample: Record<string, unknown[]>;
  value: string;
  valueTitle: string;
  xTitle: string;
  caption: string;
}

/**
 * A value over x per uid from the reservoir sample: one dot per sampled (event, uid), coloured on a
 * continuous uid scale (a gradient, not a legend with hundreds of entries), one panel per task.
 */
export function uidScatterSpec(options: UidScatterOptions): VegaLiteSpec {
  const { sample, value } = options;
  const n = (sample.x ?? []).length;
  const values = [];
  for (let i = 0; i < n; i++) {
    const v = sample[value][i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    values.push({ x: sample.x[i], uid: sample.uid[i], task: sample.task?.[i] ?? 'all', v });
  }
  const tasks = [...new Set(values.map((r) => String(r.task)))].sort();
  return {
    title: { text: `${options.valueTitle} by uid`, subtitle: options.caption },
    data: { values },
    facet: { field: 'task', type: 'nominal', title: null, sort: tasks },
    columns: Math.min(2, tasks.length),
    spec: {
      width: tasks.length > 1 ? 270 : 560,
      height: tasks.length > 2 ? 140 : 260,
      mark: { type: 'circle', size: 6, opacity: 0.6, aria: false },
      encoding: {
        x: {
          field: 'x',
          type: 'quantitative',
          title: options.xTitle,
          scale: { zero: false, nice: false },
          axis: { format: ',~f', tickCount: tasks.length > 1 ? 4 : 6 },
        },
        y: { field: 'v', type: 'quantitative', title: options.valueTitle },
        color: {
          field: 'uid',
          type: 'quantitative',
          scale: { scheme: 'turbo' },
          legend: { title: 'uid', gradientLength: 160 },
        },
      },
    },
    resolve: { scale: { y: 'shared' } },
  } as unknown as VegaLiteSpec;
}
