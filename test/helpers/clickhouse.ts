import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real ClickHouse servers on loopback for the fleet tests: Debian's clickhouse-server (18.16),
 * each node with its own data directory in a temp dir, the nodes as the shards of one cluster
 * (`remote_servers`), a `default` user without a password and a `runlens` user with one.
 */
export const CLICKHOUSE_SERVER = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'].find((p) =>
  existsSync(p),
);

export const CLUSTER = 'runlens_test';
export const PASSWORD_USER = { user: 'runlens', password: 'p@ss word/1' };

export interface ClickHouseNode {
  http: number;
  tcp: number;
  dir: string;
  url: string;
  /** With startCluster(…, { https: true }): the node's https port and URL. */
  https?: number;
  httpsUrl?: string;
  process: ChildProcess | undefined;
}

export interface ClickHouseCluster {
  nodes: ClickHouseNode[];
  /** With https: the self-signed certificate the nodes serve (a CA for NODE_EXTRA_CA_CERTS). */
  certificate?: string;
  /** The nodes' URLs joined by commas, as `--clickhouse` takes them. */
  url: string;
  kill(node: number): Promise<void>;
  start(node: number): Promise<void>;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on (now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function xmlEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function config(node: ClickHouseNode, all: readonly ClickHouseNode[]): string {
  const shards = all
    .map((n) => `<shard><replica><host>127.0.0.1</host><port>${n.tcp}</port></replica></shard>`)
    .join('');
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${node.dir}/server.log</log><errorlog>${node.dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${node.http}</http_port>${
    node.https
      ? `
  <https_port>${node.https}</https_port>
  <openSSL><server><certificateFile>${node.dir}/../cert.pem</certificateFile><privateKeyFile>${node.dir}/../key.pem</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile></server></openSSL>`
      : ''
  }
  <tcp_port>${node.tcp}</tcp_port>
  <path>${node.dir}/data/</path>
  <tmp_path>${node.dir}/tmp/</tmp_path>
  <user_files_path>${node.dir}/user_files/</user_files_path>
  <format_schema_path>${node.dir}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <${PASSWORD_USER.user}><password>${xmlEscape(PASSWORD_USER.password)}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></${PASSWORD_USER.user}>
  </users>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <quotas><default></default></quotas>
  <remote_servers><${CLUSTER}>${shards}</${CLUSTER}></remote_servers>
</yandex>
`;
}

async function ready(node: ClickHouseNode, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${node.url}/?query=SELECT%201`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (node.process?.exitCode != null)
      throw new Error(`clickhouse-server on port ${node.http} exited with code ${node.process.exitCode}`);
    if (Date.now() > deadline) throw new Error(`clickhouse-server on port ${node.http} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts `shards` servers as the shards of cluster CLUSTER; stop() ends them and removes their data. */
export async function startCluster(
  shards = 2,
  options: { https?: boolean } = {},
): Promise<ClickHouseCluster> {
  if (!CLICKHOUSE_SERVER) throw new Error('clickhouse-server is not installed (.ci/run installs it)');
  const root = mkdtempSync(join(tmpdir(), 'runlens-ch-'));
  let certificate: string | undefined;
  if (options.https) {
    certificate = join(root, 'cert.pem');
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(root, 'key.pem'),
      '-out',
      certificate,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${String(made.stderr)}`);
  }
  const nodes: ClickHouseNode[] = [];
  for (let i = 0; i < shards; i++) {
    const http = await freePort();
    const tcp = await freePort();
    const https = options.https ? await freePort() : undefined;
    const dir = join(root, `node${i}`);
    mkdirSync(dir, { recursive: true });
    nodes.push({
      http,
      tcp,
      dir,
      url: `http://127.0.0.1:${http}`,
      https,
      httpsUrl: https ? `https://127.0.0.1:${https}` : undefined,
      process: undefined,
    });
  }
  for (const node of nodes) writeFileSync(join(node.dir, 'config.xml'), config(node, nodes));

  const start = async (i: number): Promise<void> => {
    const node = nodes[i];
    node.process = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(node.dir, 'config.xml')}`], {
      stdio: 'ignore',
      cwd: node.dir,
    });
    await ready(node);
  };
  const kill = async (i: number): Promise<void> => {
    const child = nodes[i].process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    nodes[i].process = undefined;
  };
  try {
    await Promise.all(nodes.map((_, i) => start(i)));
  } catch (error) {
    for (let i = 0; i < nodes.length; i++) await kill(i);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes,
    certificate,
    url: nodes.map((n) => n.url).join(','),
    kill,
    start,
    async stop() {
      for (let i = 0; i < nodes.length; i++) await kill(i);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
