import type {
  FleetAnalysisResponse,
  FleetInfoResponse,
  FleetRunsResponse,
} from '../../../src/server/fleet-api-types.js';
import { ApiError, get } from '../api.js';
import { chrome } from '../chrome.js';
import { h } from '../dom.js';
import { currentRoute, joinIds, splitIds, writeQuery } from '../view-state.js';
import { fleetRunsTable, type FleetSelection } from './fleet-runs-table.js';
import { curvesView, matrixView, type FleetView } from './fleet-views.js';
import './fleet.css';

/** The fleet the server was started with (`serve --clickhouse`), or undefined when it has none. */
export async function fleetInfo(): Promise<FleetInfoResponse | undefined> {
  try {
    const answer = await get<FleetInfoResponse | null>('/api/fleet');
    return (answer.ready && answer.body) || undefined;
  } catch {
    return undefined;
  }
}

/** The header's link to the fleet page (when local runs are the home page). */
export function fleetLink(): HTMLAnchorElement {
  const link = h('a', { class: 'topbar-link', href: '#/fleet' }, 'Fleet');
  document.getElementById('crumbs')!.after(link);
  return link;
}

function message(error: unknown): { text: string; hint?: string } {
  if (error instanceof ApiError) return { text: error.message, hint: error.hint };
  return { text: error instanceof Error ? error.message : String(error) };
}

/**
 * The runs pushed to a ClickHouse fleet and three views of a selection of them, computed by the
 * server on the cluster: the leaderboard per uid across runs, success rates per uid across runs,
 * the runs' reward curves overlaid. The selection is kept in the route's query (`runs=a,b`; none:
 * every run), as is whether the curves are smoothed (`ema=0`: the exact per-bin means). The runs list is asked for again every 10 s; a push changes its version and the
 * views are computed again.
 */
export function fleetPage(root: HTMLElement, info: FleetInfoResponse): () => void {
  chrome.crumbs(...(info.localRuns ? [{ label: 'Runs', href: '#/' }] : []), { label: 'Fleet' });
  chrome.live('off');
  const named = splitIds(currentRoute().query.get('runs'));
  let selection: FleetSelection = named.length ? new Set(named) : 'all';
  let fleetRuns: string[] = [];
  let version: number | undefined;
  let asked = 0;
  let stopped = false;
  let debounce: number | undefined;

  const where = h('p', { class: 'subtle' }, 'asking ClickHouse for the runs…');
  const problem = h('div', { class: 'fleet-error', hidden: true, role: 'alert', 'data-role': 'fleet-error' });
  const choose = h('p', { class: 'notice', hidden: true }, 'Select at least one run to see the views.');
  const runsTable = fleetRunsTable((next) => {
    selection = next;
    saveSelection();
    window.clearTimeout(debounce);
    // Ticking several boxes in a row asks once.
    debounce = window.setTimeout(() => void loadViews(), 250);
  });
  const views: FleetView[] = [
    matrixView(
      'leaderboard',
      'Leaderboard per uid across runs',
      'mean rewards per uid in each run, and the spread between runs',
    ),
    matrixView('success', 'Success rate per uid across runs', 'share of calls that succeeded, per run'),
    curvesView('Reward curves overlaid', 'mean reward of each run per bin of x, on bins all runs share', {
      smoothed: currentRoute().query.get('ema') !== '0',
      onSmoothed(smoothed) {
        const query = currentRoute().query;
        if (smoothed) query.delete('ema');
        else query.set('ema', '0');
        writeQuery(query);
      },
    }),
  ];
  // Shown once ClickHouse has answered (an empty table under an error says nothing).
  const runsBox = h('div', { class: 'fleet-runs', hidden: true }, runsTable.el);
  const viewsBox = h('div', { hidden: true }, choose, ...views.map((v) => v.el));
  root.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Fleet'), where)),
    problem,
    runsBox,
    viewsBox,
  );
  const place = `database ${info.database} at ${info.nodes.join(', ')}${info.cluster ? ` (cluster ${info.cluster})` : ''}`;

  const saveSelection = (): void => {
    const query = currentRoute().query;
    if (selection === 'all') query.delete('runs');
    else query.set('runs', joinIds([...selection]));
    writeQuery(query);
  };

  const showProblem = (error: unknown): void => {
    const { text, hint } = message(error);
    problem.replaceChildren(
      h('strong', {}, text),
      ...(hint ? [h('p', { class: 'hint' }, hint)] : []),
      h('p', { class: 'hint' }, 'Asked again every 10 s.'),
    );
    problem.hidden = false;
  };

  const loadViews = async (): Promise<void> => {
    const mine = ++asked;
    const runs = selection === 'all' ? fleetRuns : fleetRuns.filter((r) => (selection as Set<string>).has(r));
    choose.hidden = runs.length > 0;
    for (const view of views) view.el.hidden = runs.length === 0;
    if (!runs.length) return;
    const params = selection === 'all' ? {} : { runs: runs.join(',') };
    for (const view of views) view.loading();
    await Promise.all(
      views.map(async (view) => {
        try {
          const answer = await get<FleetAnalysisResponse>('/api/fleet/analysis', {
            kind: view.kind,
            ...params,
          });
          if (mine !== asked || stopped || !answer.ready) return;
          await view.show(answer.body, fleetRuns);
        } catch (error) {
          if (mine !== asked || stopped) return;
          const { text, hint } = message(error);
          view.fail(hint ? `${text} — ${hint}` : text);
        }
      }),
    );
  };

  const loadRuns = async (): Promise<void> => {
    let answer;
    try {
      answer = await get<FleetRunsResponse>('/api/fleet/runs');
    } catch (error) {
      if (!stopped) {
        showProblem(error);
        if (runsBox.hidden) where.textContent = place;
      }
      return;
    }
    if (stopped || !answer.ready) return;
    problem.hidden = true;
    const { runs } = answer.body;
    fleetRuns = runs.map((r) => r.run);
    where.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} in ${place}`;
    if (selection !== 'all') {
      // Runs no longer in the fleet (or mistyped in a link) leave the selection.
      const kept = new Set([...selection].filter((r) => fleetRuns.includes(r)));
      if (kept.size !== selection.size) {
        selection = kept.size ? kept : 'all';
        saveSelection();
      }
    }
    runsTable.show(runs, selection);
    runsBox.hidden = false;
    viewsBox.hidden = runs.length === 0;
    if (answer.body.version !== version) {
      version = answer.body.version;
      await loadViews();
    }
  };

  void loadRuns();
  const timer = window.setInterval(() => void loadRuns(), 10_000);
  return () => {
    stopped = true;
    window.clearInterval(timer);
    window.clearTimeout(debounce);
    for (const view of views) view.destroy();
  };
}
