import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../errors.js';
import { parseFleetTarget, redact, type FleetTarget } from '../fleet/clickhouse.js';
import { expandHome } from '../formats/discover.js';
import { DEFAULT_WEB_ROOT } from '../server/app.js';
import { startServer, type RunningServer } from '../server/serve.js';
import type { RegisterCommand } from './commands.js';

export interface ServeCliOptions {
  port: number;
  host: string;
  cacheDir?: string;
  /** false with --no-cache (commander's negation). */
  cache?: boolean;
  /** A fleet for the fleet page (ClickHouse's HTTP interface, one URL per shard with --cluster). */
  clickhouse?: string;
  database?: string;
  cluster?: string;
}

export const registerServe: RegisterCommand = (program) => {
  program
    .command('serve')
    .description(
      'a live local dashboard of every run under DIR, and of a ClickHouse fleet with --clickhouse (read-only; Ctrl-C stops)',
    )
    .argument(
      '[dir]',
      'directory searched for runs (or one log file); default . unless --clickhouse is given',
    )
    .option('--port <n>', 'port (0 picks a free one)', parsePort, 8477)
    .option('--host <address>', 'address to bind; loopback unless you mean to share it', '127.0.0.1')
    .option('--cache-dir <dir>', 'where run indexes are kept (default: $XDG_CACHE_HOME/runlens)')
    .option('--no-cache', 'read each run into a temporary index, neither using nor keeping a cached one')
    .option(
      '--clickhouse <url>',
      'also show the runs pushed to this ClickHouse fleet (a Fleet page; its home page without DIR); with --cluster one URL per shard, comma-separated',
    )
    .option('--database <name>', 'with --clickhouse: the database of the runlens tables (default: runlens)')
    .option('--cluster <name>', 'with --clickhouse: the cluster in remote_servers whose shards the URLs are')
    .action(async (dir: string | undefined, options: ServeCliOptions) => {
      const server = await serveDirectory(dir, options);
      const served = [
        server.app.registry.root,
        options.clickhouse &&
          `the fleet at ${options.clickhouse.split(',').map(redact).join(', ')} (#/fleet)`,
      ].filter(Boolean);
      process.stdout.write(`runlens dashboard for ${served.join(' and ')}\n  ${server.url}\n`);
      if (!isLoopbackHost(options.host))
        process.stderr.write(
          `  note: bound to ${options.host}: anyone who can reach it can read these runs\n`,
        );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          // A second Ctrl-C, or a run still being indexed after a second, does not keep the process.
          process.once('SIGINT', () => process.exit(130));
          void server.close().then(() => {
            setTimeout(() => process.exit(), 1000).unref();
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
};

/**
 * Starts the dashboard for `dir` (default `.`, none with only --clickhouse) and the fleet;
 * clear errors for a missing directory, a malformed URL, a busy port or an unbuilt front end.
 */
export async function serveDirectory(
  dir: string | undefined,
  options: ServeCliOptions,
): Promise<RunningServer> {
  const fleet = fleetOf(options);
  const shown = dir ?? (fleet ? undefined : '.');
  const root = shown === undefined ? undefined : path.resolve(expandHome(shown));
  if (root !== undefined && !fs.existsSync(root))
    throw new UserError(`${shown}: no such file or directory`, {
      hint: 'pass the directory that holds your runs',
    });
  if (!fs.existsSync(path.join(DEFAULT_WEB_ROOT, 'index.html')))
    process.stderr.write(
      `runlens: the dashboard front end is not built (${DEFAULT_WEB_ROOT}); run \`npm run build\`\n`,
    );
  try {
    return await startServer({
      root,
      port: options.port,
      host: options.host,
      fleet,
      cache: options.cache === false ? false : options.cacheDir && path.resolve(expandHome(options.cacheDir)),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UserError(`port ${options.port} is already in use`, {
        hint: 'pass --port N, or --port 0 for any free port',
      });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new UserError(`cannot bind to ${options.host}`, {
        hint: 'use an address of this machine, e.g. 127.0.0.1',
      });
    throw error;
  }
}

/** The fleet --clickhouse names (checked now: a malformed URL stops the command, not the page). */
function fleetOf(options: ServeCliOptions): FleetTarget | undefined {
  if (options.clickhouse === undefined) {
    if (options.database !== undefined || options.cluster !== undefined)
      throw new UserError('--database and --cluster name parts of a fleet: give --clickhouse URL too');
    return undefined;
  }
  return parseFleetTarget(options.clickhouse, { database: options.database, cluster: options.cluster });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new InvalidArgumentError(`expected a port 0–65535, got "${text}"`);
  return port;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
