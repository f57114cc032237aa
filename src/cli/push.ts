import type { Command } from 'commander';
import { requireRows, Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import { defaultRunName, pushRun, type PushProgress, type PushResult } from '../fleet/push.js';
import type { RegisterCommand } from './commands.js';
import { formatNumber, progressReporter } from './progress.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';
import { addFleetOptions, openFleet, type FleetCliOptions } from './runs.js';
import { problemSummaryText } from './summary.js';

interface PushCliOptions extends RunCliOptions, FleetCliOptions {
  run?: string;
  replace?: boolean;
}

/** `runlens push`: each run's rows into the fleet's tables, incrementally (see fleet/push.ts). */
export const registerPush: RegisterCommand = (program: Command) => {
  addFleetOptions(
    addRunOptions(
      program
        .command('push')
        .description(
          "ship runs' normalised rows to ClickHouse; incremental: a second push sends only what was appended",
        )
        .argument('[paths...]', 'log files or run directories, one run each')
        .option('--run <name>', "the run's name in the fleet (one PATH only; default: its directory's name)")
        .option('--replace', "replace the fleet's run of that name when it holds other files"),
    ),
  ).action(async (paths: string[], options: PushCliOptions) => {
    const inputs: (string | undefined)[] = paths.length ? paths : [undefined];
    if (options.run !== undefined && inputs.length > 1)
      throw new UserError(`--run names one run, but ${inputs.length} paths were given`, {
        hint: 'push them without --run (each is named after its directory), or one at a time',
      });
    if (options.run !== undefined && !options.run.trim()) throw new UserError('--run needs a name');
    const fleet = openFleet(options);
    const pushed = new Map<string, string>();
    try {
      for (const input of inputs) {
        const progress = progressReporter();
        const run = await Run.open(input, { ...openRunOptions(options), onProgress: progress.onProgress });
        progress.done();
        try {
          requireRows(run);
          const name = options.run ?? defaultRunName(run, input);
          const earlier = pushed.get(name);
          if (earlier !== undefined)
            throw new UserError(`${input ?? run.location.root} and ${earlier} would both be run ${name}`, {
              hint: 'push them one at a time, each with its own --run NAME',
            });
          pushed.set(name, input ?? run.location.root);
          const line = pushLine();
          let result: PushResult;
          try {
            result = await pushRun(fleet, run, { name, replace: options.replace, onProgress: line.update });
          } finally {
            line.done();
          }
          process.stdout.write(formatPushResult(result));
          process.stderr.write(problemSummaryText(run.ingest, options.verbose));
        } finally {
          run.close();
        }
      }
    } finally {
      await fleet.close();
    }
  });
};

/** `ft-a → http://host:8123: events +299, uid_events +4,424, uid_indexed +256 · …`, one line. */
export function formatPushResult(result: PushResult): string {
  const { inserted } = result;
  const some = (names: string[]) =>
    names.length ? ` (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})` : '';
  return (
    `${result.run} → ${result.node}: events +${formatNumber(inserted.events)}, ` +
    `uid_events +${formatNumber(inserted.uid_events)}, uid_indexed +${formatNumber(inserted.uid_indexed)}` +
    ` · files pushed again: ${result.repushed.length}${some(result.repushed)}` +
    ` · rows recovered: ${formatNumber(result.recovered)}` +
    ` · type conflicts: ${result.conflicts.length}${some(result.conflicts)}\n`
  );
}

/** The push's blocks as one line on stderr, only when stderr is a terminal. */
function pushLine(stream: NodeJS.WriteStream = process.stderr): {
  update?: (p: PushProgress) => void;
  done(): void;
} {
  if (!stream.isTTY) return { done() {} };
  let drawn = false;
  return {
    update(p) {
      const percent = p.totalRows > 0 ? Math.floor((100 * p.rows) / p.totalRows) : 100;
      const line = `push ${p.run} · ${p.file} · ${formatNumber(p.rows)}/${formatNumber(p.totalRows)} events (${percent}%)`;
      stream.write(`\r\x1b[K${line.slice(0, (stream.columns ?? 120) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
