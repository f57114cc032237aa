import './style.css';
import { comparePage } from './pages/compare.js';
import { runPage } from './pages/run.js';
import { runsPage } from './pages/runs.js';

const app = document.getElementById('app')!;
let destroy: (() => void) | undefined;

/** Hash routes: `#/` runs, `#/run/<id>`, `#/compare?runs=<id>,<id>&metric=<name>`. */
function route(): void {
  destroy?.();
  window.scrollTo(0, 0);
  const hash = location.hash.replace(/^#/, '') || '/';
  if (hash.startsWith('/run/')) {
    destroy = runPage(app, decodeURIComponent(hash.slice('/run/'.length)));
  } else if (hash.startsWith('/compare')) {
    // Each run id is percent-encoded on its own and joined with ",", so split before decoding.
    const raw = new Map(
      (hash.split('?')[1] ?? '').split('&').map((p) => p.split('=', 2) as [string, string]),
    );
    const ids = (raw.get('runs') ?? '').split(',').filter(Boolean).map(decodeURIComponent);
    const metric = raw.get('metric');
    destroy = comparePage(app, ids, metric ? decodeURIComponent(metric) : undefined);
  } else {
    destroy = runsPage(app);
  }
}

window.addEventListener('hashchange', route);
route();
