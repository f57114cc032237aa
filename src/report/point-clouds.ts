import { reservoirSample } from '../engine/reservoir.js';
import type { QueryableRun } from '../engine/queryable.js';
import { and, ident, join, sql } from '../engine/sql.js';
import { FONT_STACK, PALETTE, hoverText, type Figure } from './figure.js';
import { formatPercent, formatRows, roundedValues } from './numbers.js';

export interface PointCloudOptions {
  /** At most this many sampled uid rows in total, shared by every 3-D map (default 50 000). */
  size?: number;
  seed?: number;
  /** Tasks beyond this many (the most frequent are kept) are drawn as one "other" group. */
  maxGroups?: number;
}

export interface PointCloud {
  id: string;
  title: string;
  caption: string;
  figure: Figure;
  countText: string;
}

export interface PointCloudSection {
  /** "50,000 of 32.9 M rows, 0.15 %" */
  sampling: string;
  seed: number;
  groups: string[];
  clouds: PointCloud[];
}

const VALUES = [
  { column: 'rewards', title: 'reward', id: 'cloud-rewards' },
  { column: 'completion_times', title: 'completion time (s)', id: 'cloud-completion-times' },
] as const;

export const NO_TASK = '(no task)';
const OTHER = 'other';

/**
 * 3-D maps x × uid × value (reward, completion time) from one seeded reservoir sample of the
 * uid rows: one trace per task, so a selector can show one task at a time.
 */
export async function pointCloudSection(
  run: QueryableRun,
  options: PointCloudOptions = {},
): Promise<PointCloudSection | undefined> {
  const values = VALUES.filter((v) => run.storedColumns('uid_rows').has(v.column));
  if (!values.length) return undefined;
  const seed = options.seed ?? 0;
  const d = run.dialect;
  const xColumn = ident('x');
  const finite = join(
    values.map((v) => d.isFinite(ident(v.column))),
    ' OR ',
  );
  const sample = await reservoirSample(run, {
    table: 'uid_events',
    columns: ['x', 'uid', 'task', ...values.map((v) => v.column)],
    where: and([sql`${xColumn} IS NOT NULL`, d.isFinite(xColumn), sql`${ident('uid')} >= 0`, finite]),
    size: options.size ?? 50_000,
    seed,
    overX: true,
  });
  if (!sample.size) return undefined;
  const tasks = (sample.columns.task as (string | null)[]).map((t) => t ?? NO_TASK);
  const groups = taskGroups(tasks, options.maxGroups ?? 12);
  const groupOf = tasks.map((t) => (groups.includes(t) ? t : OTHER));
  const allGroups = groupOf.includes(OTHER) ? [...groups, OTHER] : groups;
  const x = sample.columns.x as number[];
  const uid = sample.columns.uid as number[];
  const clouds = values.map((v): PointCloud => {
    const z = roundedValues(sample.columns[v.column] as (number | null)[]);
    const data = allGroups.map((group, g) => {
      const keep: number[] = [];
      for (let i = 0; i < z.length; i++) if (groupOf[i] === group && Number.isFinite(z[i])) keep.push(i);
      return {
        type: 'scatter3d',
        mode: 'markers',
        name: group,
        x: keep.map((i) => x[i]),
        y: keep.map((i) => uid[i]),
        z: keep.map((i) => z[i]),
        marker: { size: 1.6, color: PALETTE[g % PALETTE.length], opacity: 0.7 },
        hovertemplate: `${hoverText(run.x.label)} %{x}<br>uid %{y}<br>${hoverText(v.title)} %{z:.4g}<br>task ${hoverText(group)}<extra></extra>`,
      };
    });
    const points = data.reduce((n, t) => n + t.x.length, 0);
    return {
      id: v.id,
      title: `${capitalize(v.title)} by ${run.x.label} and uid`,
      caption: `${points.toLocaleString('en-US')} sampled points with a finite ${v.title}`,
      countText: ` sampled points with a finite ${v.title}`,
      figure: {
        data,
        groups: allGroups,
        layout: {
          font: { family: FONT_STACK, size: 12, color: '#1f2933' },
          paper_bgcolor: '#ffffff',
          margin: { l: 0, r: 0, t: 30, b: 0 },
          height: 500,
          legend: {
            orientation: 'h',
            itemsizing: 'constant',
            x: 0,
            y: 1,
            yanchor: 'bottom',
            font: { size: 12 },
          },
          scene: {
            xaxis: {
              title: { text: run.x.label },
              backgroundcolor: '#f5f7fa',
              showbackground: true,
              exponentformat: 'none',
              separatethousands: true,
              nticks: 5,
            },
            yaxis: { title: { text: 'uid' }, backgroundcolor: '#f5f7fa', showbackground: true },
            zaxis: { title: { text: v.title }, backgroundcolor: '#eef1f5', showbackground: true },
            camera: { eye: { x: 1.55, y: -1.55, z: 0.7 }, center: { x: 0, y: 0, z: -0.2 } },
            aspectmode: 'manual',
            aspectratio: { x: 1.6, y: 1, z: 0.75 },
          },
          uirevision: 'keep',
        },
      },
    };
  });
  return {
    sampling: `${sample.size.toLocaleString('en-US')} of ${formatRows(sample.population)} rows, ${formatPercent(sample.ratio)}`,
    seed,
    groups: allGroups,
    clouds,
  };
}

/** The most frequent tasks (ties by name), at most `max`. */
function taskGroups(tasks: string[], max: number): string[] {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t, (counts.get(t) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  return sorted.length > max ? sorted.slice(0, max - 1) : sorted;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
