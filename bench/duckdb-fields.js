// How much of the yardstick's speed comes from reading only three fields: DuckDB reads the same
// FileTAO file with the yardstick's columns, then with every field a FileTAO event has (the ones
// runlens' charts use), unnesting all five per-uid lists, then only counting rows with every field.
//   node bench/duckdb-fields.js [bench/data/filetao-1GB/events.json]
import { DuckDBInstance } from '@duckdb/node-api';
import { YARDSTICK_THREADS } from './yardstick.js';

const file = process.argv[2] ?? 'bench/data/filetao-1GB/events.json';
const path = `'${file.replaceAll("'", "''")}'`;
// best_uid is "" in SetWeights events, so it is read as text.
const ALL = `{task_name: 'VARCHAR', uids: 'BIGINT[]', rewards: 'DOUBLE[]', completion_times: 'DOUBLE[]',
  successful: 'BOOLEAN[]', task_status_codes: 'BIGINT[]', task_status_messages: 'VARCHAR[]', block: 'BIGINT',
  step_length: 'DOUBLE', best_uid: 'VARCHAR', best_hotkey: 'VARCHAR', set_weights: 'DOUBLE[]',
  moving_averaged_scores: 'DOUBLE[]'}`;
const read = (columns) => `read_json(${path}, format = 'newline_delimited', columns = ${columns})`;

const QUERIES = {
  'yardstick (3 fields)': `
    SELECT task_name, uid, count(r)::BIGINT, avg(r) FROM (
      SELECT task_name, unnest(uids) AS uid, unnest(rewards) AS r
      FROM ${read("{task_name: 'VARCHAR', uids: 'BIGINT[]', rewards: 'DOUBLE[]'}")})
    GROUP BY GROUPING SETS ((task_name), (uid))`,
  'every field, 5 lists unnested': `
    SELECT task_name, uid, count(r)::BIGINT, avg(r), avg(t), sum(s::INT), count(code), max(block), avg(step_length),
      sum(w), sum(m)
    FROM (
      SELECT task_name, block, step_length, len(set_weights) AS w, len(moving_averaged_scores) AS m,
        unnest(uids) AS uid, unnest(rewards) AS r, unnest(completion_times) AS t, unnest(successful) AS s,
        unnest(task_status_codes) AS code, unnest(task_status_messages) AS message
      FROM ${read(ALL)})
    GROUP BY GROUPING SETS ((task_name), (uid))`,
  'every field, count(*)': `SELECT count(*) FROM ${read(ALL)}`,
};

const instance = await DuckDBInstance.create(':memory:', { threads: String(YARDSTICK_THREADS) });
const connection = await instance.connect();
for (const [name, sql] of Object.entries(QUERIES)) {
  const started = performance.now();
  await connection.runAndReadAll(sql);
  console.log(`${name.padEnd(32)} ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

// What feeding JavaScript from DuckDB's reader would cost: every per-uid row (block, uid, reward,
// completion time, success) streamed out chunk by chunk, its values read from the typed arrays.
const started = performance.now();
const result = await connection.stream(`
  SELECT block, CAST(unnest(uids) AS INTEGER) AS uid, unnest(rewards) AS reward, unnest(completion_times) AS t,
    CAST(unnest(successful) AS DOUBLE) AS ok
  FROM ${read("{block: 'BIGINT', uids: 'BIGINT[]', rewards: 'DOUBLE[]', completion_times: 'DOUBLE[]', successful: 'BOOLEAN[]'}")}`);
let rows = 0;
let chunks = 0;
let sum = 0;
for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
  const uid = chunk.getColumnVector(1).items;
  const reward = chunk.getColumnVector(2).items;
  for (let i = 0; i < chunk.rowCount; i++) sum += uid[i] + reward[i];
  rows += chunk.rowCount;
  chunks++;
}
const seconds = ((performance.now() - started) / 1000).toFixed(2);
console.log(
  `${'per-uid rows streamed to JS'.padEnd(32)} ${seconds} s (${rows} rows in ${chunks} chunks; sum ${sum.toFixed(0)})`,
);
connection.closeSync();
instance.closeSync();
