import type { AnalysisOptions } from '../analysis/analysis-result.js';
import { analyzeFleet } from '../analysis/fleet-analyses.js';
import { isUserError } from '../errors.js';
import { Fleet, type FleetTarget } from '../fleet/clickhouse.js';
import { FleetRun } from '../fleet/fleet-run.js';
import { listRuns, type ListedRun } from '../fleet/runs.js';
import { json } from './context.js';
import type { FleetAnalysisKind, FleetAnalysisResponse, FleetInfoResponse } from './fleet-api-types.js';
import { fleetCurves, fleetMatrix } from './fleet-plot-data.js';
import { HttpError } from './http-error.js';
import { ResultCache } from './result-cache.js';
import { WorkQueue } from './work-queue.js';

/** What each view of the fleet page asks analyzeFleet for (the browser test asks the same). */
export const FLEET_VIEW_OPTIONS: Record<FleetAnalysisKind, AnalysisOptions> = {
  leaderboard: { top: 30 },
  // The 60 uids with the most calls, in uid order (the matrix chart holds 60).
  success: { top: 60 },
  rewards: {},
};

export interface FleetSourceOptions {
  /** Longest wait for the runs list before the page is told ClickHouse does not answer (default 15 s). */
  listTimeoutMs?: number;
  /** Longest wait for one analysis (default 5 min). */
  analysisTimeoutMs?: number;
}

/**
 * The fleet behind the dashboard's fleet page. The browser never talks to ClickHouse: the server
 * does, with the credentials it was started with. Answers are kept per version of the runs list
 * (a push makes a new one) and analyses run one at a time, so a page asking for three views does not
 * put three scans on the cluster at once.
 */
export class FleetSource {
  private readonly fleet: Fleet;
  private readonly answers = new ResultCache(8 * 1024 * 1024);
  private readonly queue = new WorkQueue();
  private fingerprint = '';
  private version = 0;

  constructor(
    readonly target: FleetTarget,
    private readonly options: FleetSourceOptions = {},
  ) {
    this.fleet = new Fleet(target);
  }

  info(localRuns: boolean): FleetInfoResponse {
    return {
      nodes: [...this.target.nodes],
      database: this.target.database,
      cluster: this.target.cluster ?? null,
      localRuns,
    };
  }

  /** The runs as their latest pushes describe them, and the version of that list. */
  async runs(): Promise<{ version: number; runs: ListedRun[] }> {
    const runs = await this.ask(listRuns(this.fleet), this.options.listTimeoutMs ?? 15_000);
    const fingerprint = JSON.stringify(runs.map((r) => [r.run, r.pushed.getTime(), r.rows, r.uidRows]));
    if (fingerprint !== this.fingerprint) {
      this.fingerprint = fingerprint;
      this.version++;
    }
    return { version: this.version, runs };
  }

  /** One fleet analysis of the named runs (all of them for 'all'), as the JSON text of its answer. */
  async analysis(kind: FleetAnalysisKind, names: readonly string[] | 'all'): Promise<string> {
    const { version, runs } = await this.runs();
    const known = runs.map((r) => r.run);
    if (!known.length)
      throw new HttpError(404, `database ${this.target.database} has no runs yet`, {
        hint: 'push one: runlens push PATH --clickhouse URL',
      });
    if (names !== 'all') {
      const missing = names.filter((n) => !known.includes(n));
      if (missing.length)
        throw new HttpError(404, `no run ${missing.map((n) => JSON.stringify(n)).join(', ')} in the fleet`, {
          hint: 'runs are listed by /api/fleet/runs',
          valid: known.slice(0, 50),
        });
    }
    // In the fleet's order: a selection made in any order is one answer.
    const chosen = names === 'all' ? known : known.filter((n) => names.includes(n));
    return this.answers.get(version, `${kind} ${JSON.stringify(chosen)}`, () =>
      this.queue.run(
        () => this.ask(this.compute(kind, chosen, version), this.options.analysisTimeoutMs ?? 300_000),
        { heavy: true },
      ),
    );
  }

  async close(): Promise<void> {
    await this.fleet.close();
  }

  private async compute(kind: FleetAnalysisKind, names: string[], version: number): Promise<string> {
    const run = await FleetRun.open(this.fleet, names);
    const result = await analyzeFleet(run, kind, FLEET_VIEW_OPTIONS[kind]);
    const body: FleetAnalysisResponse = {
      kind,
      version,
      runs: names,
      title: result.title,
      columns: result.columns,
      rows: result.rows,
      notes: result.notes,
      total: result.total ?? null,
      ...(kind === 'rewards'
        ? { curves: { xLabel: run.x.label, ...fleetCurves(result, names) } }
        : { matrix: fleetMatrix(result, names, kind === 'leaderboard' ? 'mean rewards' : 'success rate') }),
    };
    return json(body).text();
  }

  /**
   * A ClickHouse answer within `timeoutMs`. The fleet's own errors name the node first ("ClickHouse
   * at …": unreachable, refused credentials, no tables) and become 502s; a node that accepts the
   * connection and never answers becomes a 504 instead of a page that waits for ever.
   */
  private async ask<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HttpError(
              504,
              `ClickHouse at ${this.fleet.query.address} did not answer within ${Math.round(timeoutMs / 1000)} s`,
              { hint: 'check that the server runs and is not overloaded; reload to ask again' },
            ),
          ),
        timeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([work, late]);
    } catch (error) {
      if (isUserError(error) && error.message.startsWith('ClickHouse at '))
        throw new HttpError(502, error.message, {
          // The fleet's hint for an unreachable node is about resuming a push.
          hint: / is unreachable \(/.test(error.message)
            ? 'check the --clickhouse URL runlens serve was given, and that the server runs'
            : error.hint,
        });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
