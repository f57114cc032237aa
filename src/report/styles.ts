import { FONT_STACK } from './figure.js';

/** The page's stylesheet: system fonts, cards on a light background, responsive grids. */
export const REPORT_CSS = `
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #fff; --accent: #2f6fb0; --accent-soft: #e6f0fa; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; scroll-padding-top: 56px; }
body { margin: 0; font-family: ${FONT_STACK}; font-size: 15px; line-height: 1.5; color: var(--ink); background: var(--bg); }
.wrap { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header.top { background: linear-gradient(135deg, #1b2a3a, #2f4b66); color: #fff; padding: 28px 0 22px; }
header.top .brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; opacity: .75; }
header.top h1 { margin: 4px 0 6px; font-size: 28px; font-weight: 650; word-break: break-all; }
header.top .meta { margin: 0; opacity: .92; }
header.top .root { margin: 4px 0 0; font-size: 12px; opacity: .6; word-break: break-all; }
.badge { display: inline-block; padding: 1px 10px; margin-right: 8px; border-radius: 999px; background: rgba(255,255,255,.18); font-size: 13px; font-weight: 600; }
nav.toc { position: sticky; top: 0; z-index: 10; background: rgba(255,255,255,.95); border-bottom: 1px solid var(--line); backdrop-filter: blur(6px); }
nav.toc .wrap { display: flex; gap: 4px; overflow-x: auto; padding-top: 6px; padding-bottom: 6px; }
nav.toc a { color: var(--muted); text-decoration: none; padding: 5px 12px; border-radius: 6px; white-space: nowrap; font-size: 14px; }
nav.toc a:hover { background: var(--accent-soft); color: var(--accent); }
nav.toc .spacer { flex: 1; }
nav.toc .smoothing { display: flex; align-items: center; gap: 8px; font-size: 13px; color: var(--muted); white-space: nowrap; }
nav.toc .smoothing label { font-weight: 600; }
main { padding-top: 20px; padding-bottom: 40px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin-bottom: 20px; box-shadow: 0 1px 2px rgba(15,23,42,.04); }
section.card > h2 { margin: 0 0 4px; font-size: 20px; font-weight: 650; }
h3 { font-size: 15px; margin: 20px 0 8px; font-weight: 650; }
.lead { margin: 0 0 14px; color: var(--muted); }
.caption { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.note { color: var(--muted); font-size: 13px; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; margin: 14px 0 6px; }
dl.stats div { background: var(--bg); border-radius: 8px; padding: 10px 14px; }
dl.stats dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
dl.stats dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
dl.stats dd.warn { color: #b44d12; }
dl.stats div.wide { grid-column: span 2; }
.table-scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
table.data { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
table.data td.num, table.data th.num { text-align: right; }
table.data td.path { white-space: normal; word-break: break-all; }
table.data thead th { position: sticky; top: 0; background: #f0f3f7; font-weight: 600; z-index: 1; }
table.data tbody tr:hover { background: #f8fafc; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: '↕'; opacity: .3; margin-left: 6px; font-size: 11px; }
table.sortable th[aria-sort=ascending]::after { content: '▲'; opacity: .8; }
table.sortable th[aria-sort=descending]::after { content: '▼'; opacity: .8; }
.status-ok { color: #2f7d32; }
.status-problems, .status-unreadable { color: #b44d12; font-weight: 600; }
.status-empty { color: var(--muted); }
ul.problems { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; margin: 6px 0 0; padding-left: 18px; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 18px; margin: 10px 0 14px; }
.controls .label { font-size: 13px; color: var(--muted); font-weight: 600; }
.selector { display: inline-flex; flex-wrap: wrap; gap: 0; border: 1px solid #cbd2d9; border-radius: 8px; overflow: hidden; }
.selector button { font: inherit; font-size: 13.5px; border: 0; border-right: 1px solid #cbd2d9; background: #fff; color: var(--ink); padding: 6px 14px; cursor: pointer; }
.selector button:last-child { border-right: 0; }
.selector button:hover { background: var(--accent-soft); }
.selector button[aria-pressed=true] { background: var(--accent); color: #fff; }
select.selector { font: inherit; font-size: 13.5px; padding: 6px 10px; background: #fff; }
.smoothing input[type=range] { width: 160px; vertical-align: middle; accent-color: var(--accent); }
.smoothing output { display: inline-block; min-width: 7em; font-variant-numeric: tabular-nums; font-weight: 600; }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
.grid-metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
figure.chart { margin: 0; min-width: 0; }
section.card > figure.chart + figure.chart, section.card > figure.chart + h3 { margin-top: 28px; }
figure.chart > figcaption { font-weight: 600; font-size: 14.5px; margin-bottom: 4px; word-break: break-all; }
.grid-metrics figure.chart { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 8px; }
.plot { position: relative; width: 100%; background: #fff; }
.plot canvas.scene-preview { position: absolute; left: 0; top: 0; z-index: 1; cursor: grab; }
.plot canvas.scene-preview:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
.plot .scene-hint { position: absolute; right: 8px; bottom: 8px; z-index: 2; font: inherit; font-size: 12.5px; color: var(--muted); background: rgba(255,255,255,.9); border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; cursor: pointer; }
.plot .scene-hint:hover { color: var(--accent); border-color: var(--accent); }
.plot.pending { background: repeating-linear-gradient(45deg, #fafbfc, #fafbfc 10px, #f4f6f8 10px, #f4f6f8 20px); border-radius: 6px; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; padding: 10px 0 30px; }
@media (max-width: 640px) {
  .wrap { padding: 0 12px; }
  section.card { padding: 14px; }
  .grid-2, .grid-metrics { grid-template-columns: 1fr; }
  header.top h1 { font-size: 22px; }
}
`;
