import type { Command } from 'commander';
import { Fleet, parseFleetTarget } from '../fleet/clickhouse.js';
import { listRuns, type ListedRun } from '../fleet/runs.js';
import { formatBytes } from '../format-bytes.js';
import type { RegisterCommand } from './commands.js';
import { formatNumber } from './progress.js';

/** Options of every command that talks to a fleet (`--clickhouse URL[,URL…]`). */
export interface FleetCliOptions {
  clickhouse: string;
  database?: string;
  cluster?: string;
}

export function addFleetOptions(command: Command): Command {
  return command
    .requiredOption(
      '--clickhouse <url>',
      "ClickHouse's HTTP interface, e.g. http://user:password@host:8123; with --cluster one URL per shard, comma-separated",
    )
    .option('--database <name>', 'the database of the runlens tables (default: runlens)')
    .option(
      '--cluster <name>',
      'the cluster in remote_servers whose shards the URLs are (tables sharded by run)',
    );
}

/** The fleet the options name; credentials from the URL or RUNLENS_CLICKHOUSE_USER / _PASSWORD. */
export function openFleet(options: FleetCliOptions): Fleet {
  return new Fleet(
    parseFleetTarget(options.clickhouse, { database: options.database, cluster: options.cluster }),
  );
}

interface RunsCliOptions extends FleetCliOptions {
  json?: boolean;
}

/** `runlens runs`: the runs pushed to a fleet. */
export const registerRuns: RegisterCommand = (program: Command) => {
  addFleetOptions(
    program
      .command('runs')
      .description('list the runs pushed to a ClickHouse fleet: profile, rows, files, x range, last push'),
  )
    .option('--json', 'machine-readable output')
    .action(async (options: RunsCliOptions) => {
      const fleet = openFleet(options);
      try {
        const runs = await listRuns(fleet);
        const database = fleet.target.database;
        if (options.json)
          process.stdout.write(
            `${JSON.stringify({ database, runs: runs.map((r) => ({ ...r, pushed: r.pushed.toISOString() })) }, null, 2)}\n`,
          );
        else process.stdout.write(formatRuns(database, runs));
      } finally {
        await fleet.close();
      }
    });
};

export function formatRuns(database: string, runs: readonly ListedRun[]): string {
  if (!runs.length) return `no runs in database ${database}\n`;
  const header = ['run', 'profile', 'rows', 'uid rows', 'files', 'size', 'x range', 'last push (UTC)'];
  const rows = runs.map((r) => [
    r.run,
    r.profile,
    formatNumber(r.rows),
    formatNumber(r.uidRows),
    formatNumber(r.files),
    formatBytes(r.bytes),
    r.xMin === null || r.xMax === null
      ? '—'
      : `${r.xLabel} ${formatNumber(r.xMin)} … ${formatNumber(r.xMax)}`,
    r.pushed.toISOString().slice(0, 19).replace('T', ' '),
  ]);
  const numeric = new Set([2, 3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const count = `${runs.length} run${runs.length === 1 ? '' : 's'} in database ${database}`;
  return `${[count, line(header), ...rows.map(line)].join('\n')}\n`;
}
