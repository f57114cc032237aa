// The yardstick: DuckDB in this process scanning and aggregating the same files with hand-written
// SQL, with as many threads as runlens gives DuckDB (os.availableParallelism() capped at 4).
import os from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';

export const YARDSTICK_THREADS = Math.max(1, Math.min(os.availableParallelism(), 4));

const RSS_POLL_MS = 50;

const sqlString = (text) => `'${text.replaceAll("'", "''")}'`;
const fileList = (files) => `[${files.map(sqlString).join(', ')}]`;

const RL_COMPONENTS = ['event', 'level', 'heal', 'badge', 'explore', 'dead', 'stuck'];

/** One query per workload; each reads every input byte once (one scan, GROUPING SETS). */
const QUERIES = {
  // Per task: count and mean of every per-uid reward; per uid: count and mean reward.
  filetao: (files) => `
    SELECT task_name, uid, count(r)::BIGINT AS n, avg(r) AS mean_reward
    FROM (
      SELECT task_name, unnest(uids) AS uid, unnest(rewards) AS r
      FROM read_json(${fileList(files)}, format = 'newline_delimited',
        columns = {task_name: 'VARCHAR', uids: 'BIGINT[]', rewards: 'DOUBLE[]'})
    )
    GROUP BY GROUPING SETS ((task_name), (uid))`,

  // Per total_steps: mean of rewards.total and of every component, and rows;
  // per (map, x, y): visit count.
  rl: (files) => `
    SELECT total_steps, position.map AS map, position.x AS x, position.y AS y, count(*)::BIGINT AS n,
      avg(rewards.total) AS total, ${RL_COMPONENTS.map((c) => `avg(rewards.components.${c}) AS ${c}`).join(', ')}
    FROM read_json(${fileList(files)}, format = 'array', columns = {
      total_steps: 'BIGINT',
      position: 'STRUCT(x BIGINT, y BIGINT, map BIGINT)',
      rewards: 'STRUCT(total DOUBLE, step DOUBLE, components STRUCT(${RL_COMPONENTS.map((c) => `${c} DOUBLE`).join(', ')}))'
    })
    GROUP BY GROUPING SETS ((total_steps), (position.map, position.x, position.y))`,

  // Per name: events, mean of every reward (avg of unnest(rewards)), NaN count in dpo_reward_model.
  openvalidators: (files) => `
    SELECT name, count(*)::BIGINT AS events,
      sum(list_sum(rewards)) / sum(len(rewards)) AS mean_reward,
      sum(len(list_filter(dpo_reward_model, v -> isnan(v))))::BIGINT AS nan_dpo
    FROM read_json(${fileList(files)}, format = 'newline_delimited',
      columns = {name: 'VARCHAR', rewards: 'DOUBLE[]', dpo_reward_model: 'DOUBLE[]'})
    GROUP BY name`,
};

export async function duckdbVersion() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll('SELECT version() AS v');
  const version = reader.getRowObjectsJS()[0].v;
  connection.closeSync();
  instance.closeSync();
  return version;
}

/**
 * Runs the workload's query on its files in a fresh in-memory DuckDB and resolves with
 * { seconds, cpuSeconds, rssDeltaBytes, resultRows, threads }. cpuSeconds is the whole process
 * (DuckDB's threads included); rssDeltaBytes is this process's peak RSS during the query minus its
 * RSS before it.
 */
export async function runYardstick(workloadName, files) {
  const sql = QUERIES[workloadName](files);
  const instance = await DuckDBInstance.create(':memory:', { threads: String(YARDSTICK_THREADS) });
  const connection = await instance.connect();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const timer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), RSS_POLL_MS);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const reader = await connection.runAndReadAll(sql);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssDeltaBytes: rssPeak - rssBefore,
      resultRows: reader.currentRowCount,
      threads: YARDSTICK_THREADS,
    };
  } finally {
    clearInterval(timer);
    connection.closeSync();
    instance.closeSync();
  }
}
