import type { Figure } from './figure.js';
import type { ReportModel } from './gather-report.js';
import { escapeHtml as e, jsonForScript, scriptText } from './html-text.js';
import { formatBytes } from '../format-bytes.js';
import { formatValue } from './numbers.js';
import {
  heatmapsHtml,
  leaderboardHtml,
  metricsHtml,
  pointCloudHtml,
  smoothingHtml,
  summaryHtml,
  trainingHtml,
} from './section-html.js';
import { REPORT_CSS } from './styles.js';

/**
 * No request of any kind leaves the page: scripts and styles are inline (Plotly's source is run
 * from a blob: URL made of its inline text), images only data:/blob:.
 */
export const REPORT_CSP =
  "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'";

/** The whole report page: header, navigation, sections, inlined data, Plotly and the page script. */
export function reportPage(model: ReportModel, scripts: { plotly: string; client: string }): string {
  const { facts } = model;
  const s = facts.summary;
  const sections: [string, string, string][] = [
    ['summary', 'Summary', summaryHtml(model)],
    ['leaderboard', 'Leaderboard', leaderboardHtml(model)],
    ['maps-3d', '3-D maps', pointCloudHtml(model)],
    ['heatmaps', 'Scores & weights', heatmapsHtml(model)],
    ['training', 'Training', trainingHtml(model)],
    ['metrics', 'Metrics', metricsHtml(model)],
  ];
  const present = sections.filter(([, , html]) => html);
  const xRange = s.x.min === null ? '' : ` · ${s.x.label} ${formatValue(s.x.min)} … ${formatValue(s.x.max)}`;
  const meta = `${formatValue(s.rows)} events · ${s.files} file${s.files === 1 ? '' : 's'} · ${formatBytes(s.bytes)}${xRange}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="runlens report">
<title>${e(facts.name)} · runlens report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<div class="brand">runlens report</div>
<h1>${e(facts.name)}</h1>
<p class="meta"><span class="badge">${e(s.profile)}</span>${e(meta)}</p>
<p class="root">${e(facts.root)}</p>
</div></header>
<nav class="toc" aria-label="sections"><div class="wrap">${present.map(([id, label]) => `<a href="#${id}">${e(label)}</a>`).join('')}<span class="spacer"></span>${smoothingHtml(model)}</div></nav>
<main class="wrap">
${present.map(([, , html]) => html).join('\n')}
</main>
<footer>Made by runlens · one self-contained file: no network, data and Plotly inlined.</footer>
<script type="application/json" id="runlens-data">${jsonForScript({ figures: pageFigures(model), smoothingWeight: model.smoothingWeight })}</script>
<script type="text/plain" id="runlens-plotly">${scriptText(scripts.plotly)}</script>
<script>${scriptText(scripts.client)}</script>
</body>
</html>
`;
}

/**
 * Every figure by id, without what the page script can recompute: a smoothed trace's y (from its
 * source), an x array equal to an earlier trace's (`xFrom`), log-colour z (from customdata).
 */
function pageFigures(model: ReportModel): Record<string, Figure> {
  const all = [
    ...(model.pointClouds?.clouds ?? []),
    ...model.heatmaps,
    ...(model.rewards ? [model.rewards] : []),
    ...(model.positions ? [{ id: 'positions', figure: model.positions.figure }] : []),
    ...model.metrics,
  ];
  const figures: Record<string, Figure> = {};
  for (const { id, figure } of all) {
    const data: Record<string, unknown>[] = figure.data.map((trace, i) => {
      const copy: Record<string, unknown> = { ...trace };
      const earlier = figure.data.findIndex((other) => other.x === trace.x);
      if (Array.isArray(trace.x) && earlier < i) {
        delete copy.x;
        copy.xFrom = earlier;
      }
      if (figure.logColor && trace.type === 'heatmap') delete copy.z;
      return copy;
    });
    for (const pair of figure.smooth ?? []) delete data[pair.target].y;
    figures[id] = { ...figure, data };
  }
  return figures;
}
