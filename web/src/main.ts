import './style.css';
import { comparePage } from './pages/compare.js';
import { fleetInfo, fleetLink, fleetPage } from './pages/fleet.js';
import { runPage } from './pages/run.js';
import { runsPage } from './pages/runs.js';
import { currentRoute, splitIds } from './view-state.js';

const app = document.getElementById('app')!;
let destroy: (() => void) | undefined;
// With `serve --clickhouse`: a fleet page, the home page when no local runs are served.
const fleet = await fleetInfo();
if (fleet?.localRuns) fleetLink();

/**
 * Hash routes: `#/` runs (`?select=<id>,<id>`), `#/run/<id>`, `#/compare?runs=<id>,<id>&metric=<name>`,
 * `#/fleet?runs=<name>,<name>`; each page keeps its view in the query (view-state.ts).
 */
function route(): void {
  destroy?.();
  window.scrollTo(0, 0);
  const { path, query } = currentRoute();
  if (fleet && (path.startsWith('/fleet') || !fleet.localRuns)) {
    destroy = fleetPage(app, fleet);
  } else if (path.startsWith('/run/')) {
    destroy = runPage(app, decodeURIComponent(path.slice('/run/'.length)));
  } else if (path.startsWith('/compare')) {
    destroy = comparePage(app, splitIds(query.get('runs')), query.get('metric') ?? undefined);
  } else {
    destroy = runsPage(app);
  }
}

window.addEventListener('hashchange', route);
route();
