import type { Figure } from './figure.js';
import type { ReportModel, TitledFigure } from './gather-report.js';
import { escapeHtml as e } from './html-text.js';
import { formatBytes } from '../format-bytes.js';
import { formatValue } from './numbers.js';

/** A figure placeholder: the page script renders it when it scrolls into view. */
export function chartHtml(item: TitledFigure): string {
  const counts =
    item.countText === undefined
      ? ''
      : ` data-count-for="${e(item.id)}" data-count-text="${e(item.countText)}"`;
  return `<figure class="chart" id="${e(item.id)}-chart"><figcaption>${e(item.title)}</figcaption>${plotDiv(item.id, item.figure)}<p class="caption"${counts}>${e(item.caption)}</p></figure>`;
}

function plotDiv(id: string, figure: Figure): string {
  const height = typeof figure.layout.height === 'number' ? figure.layout.height : 400;
  return `<div class="plot pending" data-figure="${e(id)}" style="height:${height}px"></div>`;
}

export function summaryHtml(model: ReportModel): string {
  const { summary, files, omittedFiles, ignored, problems } = model.facts;
  const stat = (label: string, value: string, warn = false, wide = false) =>
    `<div${wide ? ' class="wide"' : ''}><dt>${e(label)}</dt><dd${warn ? ' class="warn"' : ''}>${e(value)}</dd></div>`;
  const xRange =
    summary.x.min === null ? '–' : `${formatValue(summary.x.min)} … ${formatValue(summary.x.max)}`;
  const stats = [
    stat('profile', summary.profile),
    stat('events (rows)', formatValue(summary.rows)),
    stat('uid rows', formatValue(summary.uidRows)),
    stat('files', formatValue(summary.files)),
    stat('size', formatBytes(summary.bytes)),
    stat(`x: ${summary.x.label}`, xRange, false, true),
    ...(summary.x.rowsWithoutX
      ? [stat(`rows without ${summary.x.label}`, formatValue(summary.x.rowsWithoutX), true)]
      : []),
    stat('uids', formatValue(summary.uids)),
    stat('bad lines', formatValue(summary.problems), summary.problems > 0),
    stat('truncated last lines', formatValue(summary.truncated), summary.truncated > 0),
  ];
  const fileRows = files
    .map((f) => {
      const kinds = Object.entries(f.problems)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ');
      const problemCount = Object.values(f.problems).reduce((a, b) => a + (b ?? 0), 0);
      return `<tr><td class="path">${e(f.name)}</td><td>${e(f.profile)}</td><td class="num" data-v="${f.rows}">${formatValue(f.rows)}</td><td class="num" data-v="${f.bytes}">${formatBytes(f.bytes)}</td><td class="num" data-v="${problemCount}">${e(kinds || '0')}</td><td class="status-${e(f.status)}">${e(f.status)}</td></tr>`;
    })
    .join('');
  const ignoredHtml = ignored.length
    ? `<h3>Not read</h3><ul class="problems">${ignored.map((f) => `<li>${e(f.name)} — ${e(f.reason)}</li>`).join('')}</ul>`
    : '';
  const problemsHtml = problems.length
    ? `<h3>Problems${summary.problems > problems.length ? ` (first ${problems.length} of ${formatValue(summary.problems)})` : ''}</h3><ul class="problems">${problems.map((p) => `<li>${e(p)}</li>`).join('')}</ul>`
    : '';
  return `<section class="card" id="summary"><h2>Summary</h2>
<p class="lead">x axis <strong>${e(summary.x.label)}</strong> (${e(summary.x.reason)}). Lines and heatmaps are exact aggregates over every row; 3-D maps use a seeded uniform sample.</p>
<dl class="stats">${stats.join('')}</dl>
<h3>Files</h3>
<div class="table-scroll"><table class="data sortable" id="files-table"><thead><tr><th>file</th><th>profile</th><th class="num">rows</th><th class="num">size</th><th class="num">problems</th><th>status</th></tr></thead><tbody>${fileRows}</tbody></table></div>
${omittedFiles ? `<p class="note">and ${formatValue(omittedFiles)} more files (counted above)</p>` : ''}${problemsHtml}${ignoredHtml}</section>`;
}

export function leaderboardHtml(model: ReportModel): string {
  const board = model.leaderboard;
  if (!board) return '';
  const { columns } = board;
  const cell = (v: number | null, text: string) =>
    `<td class="num" data-v="${v === null || !Number.isFinite(v) ? '' : v}">${e(text)}</td>`;
  const rows = board.rows
    .map(
      (r, rank) =>
        `<tr><td class="num" data-v="${rank + 1}">${rank + 1}</td><td class="num" data-v="${r.uid}">${r.uid}</td>${cell(r.count, formatValue(r.count))}` +
        (columns.reward ? cell(r.meanReward, formatValue(r.meanReward)) : '') +
        (columns.success
          ? cell(r.successRate, r.successRate === null ? '–' : `${(r.successRate * 100).toFixed(1)} %`)
          : '') +
        (columns.completionTime ? cell(r.meanCompletionTime, formatValue(r.meanCompletionTime)) : '') +
        '</tr>',
    )
    .join('');
  const head = [
    '<th class="num">rank</th><th class="num">uid</th><th class="num">uid rows</th>',
    columns.reward ? '<th class="num" aria-sort="descending">mean reward</th>' : '',
    columns.success ? '<th class="num">success rate</th>' : '',
    columns.completionTime ? '<th class="num">mean completion time (s)</th>' : '',
  ].join('');
  return `<section class="card" id="leaderboard"><h2>Leaderboard</h2>
<p class="lead">Per uid over every uid row, best mean reward first; click a column to sort. NaN and missing values are left out of each mean.</p>
<div class="table-scroll"><table class="data sortable" id="leaderboard-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>
${board.omitted ? `<p class="note">${formatValue(board.omitted)} more uids not listed</p>` : ''}</section>`;
}

export function pointCloudHtml(model: ReportModel): string {
  const section = model.pointClouds;
  if (!section) return '';
  const targets = section.clouds.map((c) => c.id).join(' ');
  const buttons = [
    `<button type="button" data-group="__all__">All tasks</button>`,
    ...section.groups.map((g) => `<button type="button" data-group="${e(g)}">${e(g)}</button>`),
  ].join('');
  return `<section class="card" id="maps-3d"><h2>3-D maps by task</h2>
<p class="lead">${e(model.xLabel)} × uid × value. Reservoir sample: <strong>${e(section.sampling)}</strong> (seed ${section.seed}; every row equally likely). Each map opens as a still preview: click it (or rest the pointer on it) for the interactive map — drag to rotate, hover for values.</p>
<div class="controls"><span class="label">Task</span><div class="selector" role="group" aria-label="task" id="task-selector" data-targets="${e(targets)}" data-initial="__all__">${buttons}</div></div>
<div class="grid-2">${section.clouds.map((c) => chartHtml(c)).join('')}</div></section>`;
}

export function heatmapsHtml(model: ReportModel): string {
  if (!model.heatmaps.length) return '';
  return `<section class="card" id="heatmaps"><h2>Scores and weights</h2>
<p class="lead">uid × ${e(model.xLabel)}; hover for values.</p>
${model.heatmaps.map(chartHtml).join('')}</section>`;
}

export function trainingHtml(model: ReportModel): string {
  const parts: string[] = [];
  if (model.rewards) parts.push(chartHtml(model.rewards));
  const positions = model.positions;
  if (positions) {
    const options = positions.maps.map((m) => `<option value="${e(m)}">${e(m)}</option>`).join('');
    parts.push(
      `<h3>Position heatmaps</h3><div class="controls"><span class="label">Map</span><select class="selector" id="map-selector" data-targets="positions" data-initial="${e(positions.maps[0])}">${options}</select></div>` +
        chartHtml({
          id: 'positions',
          title: 'Visits per tile',
          caption: `${positions.caption}${positions.omittedMaps ? ` · ${positions.omittedMaps} less visited maps not shown` : ''}`,
          figure: positions.figure,
        }),
    );
  }
  if (!parts.length) return '';
  return `<section class="card" id="training"><h2>Training</h2>
<p class="lead">Exact per-bin means over every row; the smoothing control is at the top of the page.</p>${parts.join('')}</section>`;
}

export function metricsHtml(model: ReportModel): string {
  if (!model.metrics.length) return '';
  const omitted = model.omittedMetrics.length
    ? `<p class="note">${model.omittedMetrics.length} more numeric fields not charted: ${e(model.omittedMetrics.join(', '))}</p>`
    : '';
  return `<section class="card" id="metrics"><h2>Metrics</h2>
<p class="lead">Every numeric field over ${e(model.xLabel)}: exact per-bin mean (faint), smoothed mean (solid), p10–p90 band and min–max. Drag to zoom, double-click to reset.</p>
<div class="grid-metrics">${model.metrics.map(chartHtml).join('')}</div>${omitted}</section>`;
}

/** The smoothing slider (TensorBoard's debiased EMA weight), shown in the sticky navigation bar. */
export function smoothingHtml(model: ReportModel): string {
  if (!model.metrics.length && !model.rewards) return '';
  return `<div class="smoothing" title="TensorBoard's debiased EMA of the per-bin means; 0 = none"><label for="smoothing">Smoothing</label><input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="${model.smoothingWeight}"><output id="smoothing-value" for="smoothing"></output></div>`;
}
