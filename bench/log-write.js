// Events per second written by runlens/log's EventLog, for small (~200 B) and large (~20 KB,
// OpenValidators-like) events, unbuffered / buffered, with fsync 'never' and 'always'.
// Run after building: npx tsc -p tsconfig.build.json && node bench/log-write.js [seconds per case]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../dist/log/index.js';

const secondsPerCase = Number(process.argv[2] ?? 1.5);
const dir = mkdtempSync(join(process.env.RUNLENS_BENCH_DIR ?? tmpdir(), 'runlens-log-bench-'));

function smallEvent(id) {
  return {
    task_name: 'Store',
    block: 2400000 + id,
    step_length: 15.887,
    best_uid: id % 256,
    uids: [104, 252, 60, 169, 98, 162, 153, 65],
    rewards: [-0.15328, -0.110782, 0.633752, NaN, -0.095241, -0.082275, -0.297211, 0.110878],
    id,
  };
}

const MODELS = ['dpo', 'rlhf', 'reciprocate', 'dahoas', 'prompt', 'diversity'].map(
  (m) => `${m}_reward_model`,
);
const FILTERS = ['blacklist_filter', 'task_validator_filter', 'relevance_filter', 'nsfw_filter'];

function largeEvent(id) {
  const uids = Array.from({ length: 50 }, (_, i) => (i * 37 + id) % 1024);
  const vector = (salt) =>
    uids.map((uid, i) => (i % 17 === 0 ? NaN : ((uid * 7919 + salt * 104729) % 100000) / 100000));
  const event = {
    name: 'followup0',
    block: 1874000 + id,
    gating_loss: 7.452982673109617e-5,
    prompt: `prompt ${id}: ${'Explain the history of the treaty and its consequences. '.repeat(4)}`,
    step_length: 6.718,
    uids,
    completions: uids.map((uid) =>
      `Completion ${uid}: here is a detailed explanation of the topic. `.repeat(3),
    ),
    completion_times: vector(1),
    rewards: vector(2),
    best: 'The answer is 42.',
    id,
  };
  [...MODELS, ...FILTERS].forEach((name, k) => {
    event[name] = vector(10 + k);
    event[`${name}_normalized`] = vector(30 + k);
  });
  return event;
}

async function runCase(name, make, options, flushEvery) {
  const path = join(dir, `${name.replace(/\W+/g, '-')}.jsonl`);
  const log = new EventLog(path, options);
  const deadline = performance.now() + secondsPerCase * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < deadline) {
    for (let k = 0; k < flushEvery; k++) log.write(make(count++));
    await log.flush();
  }
  await log.close();
  const seconds = (performance.now() - started) / 1000;
  const bytes = statSync(path).size;
  rmSync(path);
  return {
    name,
    events: count,
    seconds,
    perSecond: count / seconds,
    mbPerSecond: bytes / seconds / 1e6,
    avg: bytes / count,
  };
}

const cases = [
  ['small, unbuffered, fsync never', smallEvent, {}, 100],
  ['small, buffered, fsync never', smallEvent, { buffer: true }, 1000],
  ['small, unbuffered, fsync always', smallEvent, { fsync: 'always' }, 1],
  ['small, buffered, fsync always (flush per 100)', smallEvent, { buffer: true, fsync: 'always' }, 100],
  ['large, unbuffered, fsync never', largeEvent, {}, 10],
  ['large, buffered, fsync never', largeEvent, { buffer: true }, 100],
  ['large, unbuffered, fsync always', largeEvent, { fsync: 'always' }, 1],
  ['large, buffered, fsync always (flush per 100)', largeEvent, { buffer: true, fsync: 'always' }, 100],
];

const sizes = { small: JSON.stringify(smallEvent(1)).length, large: JSON.stringify(largeEvent(1)).length };
console.log(
  `event sizes: small ≈ ${sizes.small} B, large ≈ ${sizes.large} B; ${secondsPerCase} s per case; dir ${dir}`,
);
try {
  for (const [name, make, options, flushEvery] of cases) {
    const r = await runCase(name, make, options, flushEvery);
    console.log(
      `${r.name.padEnd(48)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(10)} events/s ` +
        `${r.mbPerSecond.toFixed(1).padStart(7)} MB/s  (${r.events} events)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
