import type { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { UserError } from '../errors.js';

/**
 * Where the fleet's rows live: one or more ClickHouse nodes (`--clickhouse URL[,URL…]`, one URL
 * per shard when `--cluster` is given, in the order of the cluster's `remote_servers`), the
 * database, the credentials. Credentials come from the URL (`http://user:password@host:8123`) or
 * from RUNLENS_CLICKHOUSE_USER / RUNLENS_CLICKHOUSE_PASSWORD; they are never printed: every
 * message names a node by its address only.
 */
export interface FleetTarget {
  /** The nodes' addresses without credentials (http(s)://host:port). */
  nodes: string[];
  database: string;
  cluster: string | undefined;
  user: string;
  password: string;
}

export interface FleetTargetOptions {
  database?: string;
  cluster?: string;
  env?: NodeJS.ProcessEnv;
}

export function parseFleetTarget(urls: string, options: FleetTargetOptions = {}): FleetTarget {
  const env = options.env ?? process.env;
  const parts = urls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (!parts.length)
    throw new UserError('--clickhouse needs a URL', { hint: 'e.g. --clickhouse http://127.0.0.1:8123' });
  let user: string | undefined;
  let password: string | undefined;
  const nodes = parts.map((text) => {
    let url: URL;
    try {
      url = new URL(text.includes('://') ? text : `http://${text}`);
    } catch {
      throw new UserError(`--clickhouse: not a URL: ${redact(text)}`, {
        hint: 'e.g. --clickhouse http://127.0.0.1:8123 or https://user@host:8443',
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UserError(`--clickhouse: ${url.protocol} is not http or https (${redact(text)})`, {
        hint: "ClickHouse's HTTP interface listens on port 8123 (https: 8443)",
      });
    if (url.username) user ??= decodeURIComponent(url.username);
    if (url.password) password ??= decodeURIComponent(url.password);
    return `${url.protocol}//${url.host}`;
  });
  if (options.cluster === undefined && nodes.length > 1)
    throw new UserError(`--clickhouse names ${nodes.length} nodes but no --cluster`, {
      hint: 'give the cluster (its name in remote_servers) whose shards these nodes are, or one URL',
    });
  const database = options.database ?? 'runlens';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new UserError(`--database ${JSON.stringify(database)}: letters, digits and _ only`);
  return {
    nodes,
    database,
    cluster: options.cluster,
    user: user ?? env.RUNLENS_CLICKHOUSE_USER ?? 'default',
    password: password ?? env.RUNLENS_CLICKHOUSE_PASSWORD ?? '',
  };
}

/** A URL as the user wrote it, without the password. */
export function redact(text: string): string {
  return text.replace(/\/\/([^@/]*)@/, (_, userinfo: string) => `//${userinfo.split(':')[0]}:***@`);
}

/** Settings every request takes: answers as JSON numbers, one insert = one block (atomic). */
const SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  max_insert_block_size: '1000000000',
  min_insert_block_size_rows: '0',
  min_insert_block_size_bytes: '0',
};

/** One node: queries and inserts, every failure as a UserError naming the node. */
export class FleetNode {
  private readonly client: ClickHouseClient;

  constructor(
    readonly address: string,
    private readonly target: FleetTarget,
  ) {
    this.client = createClient({
      url: address,
      username: target.user,
      password: target.password,
      request_timeout: 600_000,
      max_open_connections: 4,
      clickhouse_settings: SETTINGS,
      log: { level: 127 },
    });
  }

  async all<T>(query: string): Promise<T[]> {
    try {
      const result = await this.client.query({ query, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (error) {
      throw this.explain(error);
    }
  }

  async command(query: string): Promise<void> {
    try {
      await this.client.command({ query });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** `INSERT INTO table (columns) FORMAT RowBinary` with the encoded rows of `body`. */
  async insertRowBinary(table: string, columns: string, body: Readable): Promise<void> {
    try {
      const result = await this.client.exec({
        query: `INSERT INTO ${table} (${columns}) FORMAT RowBinary`,
        values: body,
      });
      result.stream.resume();
      await new Promise<void>((resolve, reject) => {
        result.stream.once('end', resolve);
        result.stream.once('error', reject);
      });
    } catch (error) {
      throw this.explain(error);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** One line a person can act on: unreachable, refused credentials, missing tables, else ClickHouse's own. */
  explain(error: unknown): UserError {
    if (error instanceof UserError) return error;
    const err = error as { code?: string | number; message?: string; type?: string };
    const message = String(err.message ?? error);
    const code = String(err.code ?? '');
    const where = `ClickHouse at ${this.address}`;
    if (
      /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE|socket hang up|Timeout error/i.test(
        `${code} ${message}`,
      )
    )
      return new UserError(`${where} is unreachable (${firstLine(message) || code})`, {
        hint: 'check the URL and that the server runs; what was pushed before stays, and the same push resumes',
        cause: error,
      });
    if (/certificate|self[- ]signed|CERT_|SSL routines|wrong version number/i.test(`${code} ${message}`))
      return new UserError(`${where}: its TLS certificate is not trusted (${firstLine(message) || code})`, {
        hint: 'give the CA that signed it: NODE_EXTRA_CA_CERTS=/path/to/ca.pem runlens …',
        cause: error,
      });
    if (
      code === '516' ||
      code === '192' ||
      code === '193' ||
      /password is incorrect|Wrong password|Unknown user|Authentication failed/i.test(message)
    )
      return new UserError(`${where} refused user ${this.target.user}: wrong user or password`, {
        hint: 'give them in the URL (http://user:password@host:8123) or in RUNLENS_CLICKHOUSE_USER / RUNLENS_CLICKHOUSE_PASSWORD',
        cause: error,
      });
    if (code === '60' || code === '81' || /Table .* doesn't exist|Database .* doesn't exist/i.test(message))
      return new UserError(
        `${where} has no runlens tables in database ${this.target.database} (${firstLine(message)})`,
        {
          hint: 'push a run first: runlens push PATH --clickhouse URL',
          cause: error,
        },
      );
    return new UserError(`${where}: ${firstLine(message)}`, { cause: error });
  }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/, e\.what\(\) = DB::Exception$/, '').trim();
}

/** The target's nodes, opened; `query` is the first (it reads through the cluster's tables). */
export class Fleet {
  readonly nodes: FleetNode[];

  constructor(readonly target: FleetTarget) {
    this.nodes = target.nodes.map((address) => new FleetNode(address, target));
  }

  get query(): FleetNode {
    return this.nodes[0];
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}
