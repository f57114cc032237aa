// Real clickhouse-server shards on loopback for the fleet bench, as test/helpers/clickhouse.ts
// starts them for the tests (bench/ is plain JS and cannot import the TypeScript helper): each node
// its own data directory in a temp dir, the nodes the shards of one cluster (`remote_servers`),
// a `default` user without a password. Unlike the tests' servers these log every query to
// system.query_log (rows read, peak memory per query) and allow `maxMemoryBytes` per query.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryOf } from './measure-child.js';

export const CLICKHOUSE_SERVER = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'].find((p) =>
  existsSync(p),
);

export const BENCH_CLUSTER = 'runlens_bench';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function config(node, all, maxMemoryBytes) {
  const shards = all
    .map((n) => `<shard><replica><host>127.0.0.1</host><port>${n.tcp}</port></replica></shard>`)
    .join('');
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${node.dir}/server.log</log><errorlog>${node.dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${node.http}</http_port>
  <tcp_port>${node.tcp}</tcp_port>
  <path>${node.dir}/data/</path>
  <tmp_path>${node.dir}/tmp/</tmp_path>
  <user_files_path>${node.dir}/user_files/</user_files_path>
  <format_schema_path>${node.dir}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
  </users>
  <profiles><default><max_memory_usage>${maxMemoryBytes}</max_memory_usage><log_queries>1</log_queries></default></profiles>
  <quotas><default></default></quotas>
  <remote_servers><${BENCH_CLUSTER}>${shards}</${BENCH_CLUSTER}></remote_servers>
</yandex>
`;
}

async function ready(node, timeoutMs = 60_000) {
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

async function post(node, sql) {
  const response = await fetch(`${node.url}/`, { method: 'POST', body: sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse at ${node.url}: ${text.split('\n')[0]}`);
  return text;
}

/**
 * Starts `shards` servers as the shards of BENCH_CLUSTER. Returns { nodes, url, root, resetPeaks(),
 * peaks(), exec(node, sql), query(node, sql), stop() }: `peaks` is each server's VmHWM since the last `resetPeaks`
 * (the kernel resets it on `5` written to /proc/PID/clear_refs).
 */
export async function startCluster({ shards = 2, maxMemoryBytes = 10_000_000_000, root } = {}) {
  if (!CLICKHOUSE_SERVER)
    throw new Error('clickhouse-server is not installed (apt-get install clickhouse-server)');
  const dir = root ?? mkdtempSync(join(tmpdir(), 'runlens-bench-ch-'));
  const nodes = [];
  for (let i = 0; i < shards; i++) {
    const node = { http: await freePort(), tcp: await freePort(), dir: join(dir, `node${i}`) };
    node.url = `http://127.0.0.1:${node.http}`;
    mkdirSync(node.dir, { recursive: true });
    nodes.push(node);
  }
  for (const node of nodes) writeFileSync(join(node.dir, 'config.xml'), config(node, nodes, maxMemoryBytes));
  const kill = async (node) => {
    const child = node.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    for (const node of nodes) {
      node.process = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(node.dir, 'config.xml')}`], {
        stdio: 'ignore',
        cwd: node.dir,
      });
    }
    await Promise.all(nodes.map((node) => ready(node)));
  } catch (error) {
    for (const node of nodes) await kill(node);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes,
    root: dir,
    url: nodes.map((n) => n.url).join(','),
    resetPeaks() {
      for (const node of nodes) writeFileSync(`/proc/${node.process.pid}/clear_refs`, '5');
    },
    peaks() {
      return nodes.map((node) => memoryOf(node.process.pid));
    },
    /** A statement on one node (its HTTP interface); resolves with the answer's text. */
    exec: post,
    /** A query's rows (JSONEachRow) from one node. */
    async query(node, sql) {
      const text = await post(node, `${sql} FORMAT JSONEachRow`);
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
    async stop() {
      for (const node of nodes) await kill(node);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
