import { join } from 'node:path';
import { makeHotkey } from './hotkey.js';
import { positiveInteger } from './options.js';
import { pyIntList, pyRounded, round } from './python-json.js';
import { clamp, Random, sigmoid } from './random.js';
import type { ProfileContext, SimulateResult } from './types.js';
import { ChunkWriter } from './writer.js';

export interface FiletaoOptions {
  /** Number of miners (uids 0..uids-1); default 256. */
  uids?: number;
}

type Task = 'Store' | 'Challenge' | 'Retrieve';

const TASKS: readonly {
  name: Task;
  weight: number;
  difficulty: number;
  timeout: number;
  slowdown: number;
}[] = [
  { name: 'Store', weight: 0.4, difficulty: 0.2, timeout: 30, slowdown: 1.5 },
  { name: 'Challenge', weight: 0.35, difficulty: -0.4, timeout: 45, slowdown: 2 },
  { name: 'Retrieve', weight: 0.25, difficulty: 0, timeout: 20, slowdown: 1 },
];

const FAILURES: readonly { code: number; message: string; weight: number; quoted: string; text: string }[] = [
  { code: 408, message: 'Timeout', weight: 0.78 },
  { code: 500, message: 'Internal Server Error', weight: 0.08 },
  { code: 503, message: 'Service Unavailable', weight: 0.06 },
  { code: 404, message: 'Not Found', weight: 0.08 },
].map((failure) => ({ ...failure, quoted: `"${failure.message}"`, text: String(failure.code) }));

const SECONDS_PER_BLOCK = 12;
/** Tasks run concurrently, so blocks advance slower than the sum of step lengths. */
const CONCURRENCY = 5;
const EMA_ALPHA = 0.05;

/** Per-uid latent state: how good and how fast a miner is; drifts, and uids get recycled. */
interface Miners {
  base: Float64Array;
  quality: Float64Array;
  medianSeconds: Float64Array;
  offline: Uint8Array;
  hotkeys: string[];
  scores: Float64Array;
}

function createMiners(random: Random, count: number): Miners {
  const miners: Miners = {
    base: new Float64Array(count),
    quality: new Float64Array(count),
    medianSeconds: new Float64Array(count),
    offline: new Uint8Array(count),
    hotkeys: new Array<string>(count),
    scores: new Float64Array(count),
  };
  for (let uid = 0; uid < count; uid++) registerMiner(random, miners, uid);
  return miners;
}

function registerMiner(random: Random, miners: Miners, uid: number): void {
  miners.base[uid] = sigmoid(1.4 * random.normal());
  miners.quality[uid] = miners.base[uid];
  miners.medianSeconds[uid] = random.logNormal(2.5, 0.7);
  miners.offline[uid] = random.chance(0.06) ? 1 : 0;
  miners.hotkeys[uid] = makeHotkey(random);
  miners.scores[uid] = 0;
}

/** Slow mean-reverting drift of every miner's quality, plus the odd deregistration. */
function driftMiners(random: Random, miners: Miners): void {
  for (let uid = 0; uid < miners.quality.length; uid++) {
    if (random.chance(0.004)) registerMiner(random, miners, uid);
    const q = miners.quality[uid];
    miners.quality[uid] = clamp(q + 0.05 * (miners.base[uid] - q) + 0.03 * random.normal(), 0.01, 0.99);
  }
}

function pickTask(random: Random): (typeof TASKS)[number] {
  let u = random.next();
  for (const task of TASKS) {
    if (u < task.weight) return task;
    u -= task.weight;
  }
  return TASKS[TASKS.length - 1];
}

function pickFailure(random: Random, task: Task): (typeof FAILURES)[number] {
  let u = random.next();
  for (const failure of FAILURES) {
    if (failure.code === 404 && task === 'Store') continue;
    if (u < failure.weight) return failure;
    u -= failure.weight;
  }
  return FAILURES[0];
}

/** One Store/Challenge/Retrieve event line; updates the validator's EMA scores. */
function taskEvent(random: Random, miners: Miners, block: number, scratch: Int32Array): [string, number] {
  const task = pickTask(random);
  const count = Math.min(miners.quality.length, random.intBetween(10, 20));
  const uids = random.sample(miners.quality.length, count, scratch);
  const successful: string[] = new Array<string>(count);
  const times: string[] = new Array<string>(count);
  const messages: string[] = new Array<string>(count);
  const codes: string[] = new Array<string>(count);
  const rewards: string[] = new Array<string>(count);
  let bestUid = -1;
  let bestReward = -Infinity;
  let longest = 0;
  for (let i = 0; i < count; i++) {
    const uid = uids[i];
    const quality = miners.quality[uid];
    const offline = miners.offline[uid] === 1;
    const ok = !offline && random.chance(sigmoid(7 * (quality - 0.5) + task.difficulty));
    let seconds = random.logNormal(miners.medianSeconds[uid] * task.slowdown * (ok ? 1 : 2), 0.6);
    seconds = Math.min(seconds, task.timeout * 1.1);
    const missing = offline || random.chance(ok ? 0.03 : 0.12);
    if (!missing && seconds > longest) longest = seconds;
    let reward: number;
    if (ok) {
      const speed = clamp(1 - seconds / task.timeout, 0.05, 1);
      reward = round(0.05 + 0.75 * quality * (0.5 + 0.5 * speed) + 0.05 * random.normal(), 6);
      if (reward > bestReward) {
        bestReward = reward;
        bestUid = uid;
      }
      messages[i] = '"Success"';
      codes[i] = '200';
    } else {
      reward = round(-(0.05 + 0.3 * random.next()) * (offline ? 1.3 : 1), 6);
      const failure = offline ? FAILURES[0] : pickFailure(random, task.name);
      messages[i] = failure.quoted;
      codes[i] = failure.text;
    }
    miners.scores[uid] = EMA_ALPHA * reward + (1 - EMA_ALPHA) * miners.scores[uid];
    successful[i] = ok ? 'true' : 'false';
    times[i] = missing ? 'null' : pyRounded(seconds, 4);
    rewards[i] = pyRounded(reward, 6);
  }
  const stepLength = round(longest + random.uniform(0.2, 2), 3);
  const best = bestUid < 0 ? '""' : String(bestUid);
  const bestHotkey = bestUid < 0 ? '' : miners.hotkeys[bestUid];
  const averaged = random.chance(0.5) ? 'null' : '[]';
  const line =
    `{"task_name": "${task.name}", "successful": [${successful.join(', ')}], "completion_times": [${times.join(', ')}], ` +
    `"task_status_messages": [${messages.join(', ')}], "task_status_codes": [${codes.join(', ')}], "block": ${block}, ` +
    `"uids": ${pyIntList(uids)}, "step_length": ${pyRounded(stepLength, 3)}, "best_uid": ${best}, ` +
    `"best_hotkey": "${bestHotkey}", "rewards": [${rewards.join(', ')}], "set_weights": null, ` +
    `"moving_averaged_scores": ${averaged}}\n`;
  return [line, stepLength];
}

/** A SetWeights event: weights (u16, max 65535) from the validator's EMA scores, indexed by uid. */
function setWeightsEvent(random: Random, miners: Miners, block: number, allUids: string): string {
  const n = miners.scores.length;
  let max = 0;
  for (let uid = 0; uid < n; uid++) if (miners.scores[uid] > max) max = miners.scores[uid];
  let weights = '';
  for (let uid = 0; uid < n; uid++) {
    const weight = max > 0 ? Math.round((Math.max(0, miners.scores[uid]) / max) * 65535) : 0;
    weights += (uid === 0 ? '' : ', ') + weight;
  }
  const stepLength = round(random.uniform(0.6, 3), 3);
  return (
    `{"task_name": "SetWeights", "successful": [true], "completion_times": [0.0], ` +
    `"task_status_messages": ["Weights set"], "task_status_codes": [200], "block": ${block}, ` +
    `"uids": ${allUids}, "step_length": ${pyRounded(stepLength, 3)}, "best_uid": "", "best_hotkey": "", ` +
    `"rewards": [], "set_weights": [${weights}], "moving_averaged_scores": null}\n`
  );
}

/** FileTAO storage validator: DIR/events.json, one JSON line per task, SetWeights every ~100 blocks. */
export async function simulateFiletao(
  context: ProfileContext,
  options: FiletaoOptions,
): Promise<SimulateResult> {
  const uidCount = positiveInteger(options.uids ?? 256, '--uids');
  const random = new Random(context.seed);
  const miners = createMiners(random.fork(), uidCount);
  const scratch = new Int32Array(uidCount);
  const allUids = pyIntList(Array.from({ length: uidCount }, (_, uid) => uid));
  const path = join(context.out, 'events.json');
  const writer = await ChunkWriter.open(path);
  let records = 0;
  try {
    const startBlock = 2_400_001;
    let seconds = 0;
    let block = startBlock;
    let nextWeights = startBlock + random.intBetween(95, 110);
    while (writer.bytes < context.targetBytes) {
      let line: string;
      if (block >= nextWeights) {
        line = setWeightsEvent(random, miners, block, allUids);
        driftMiners(random, miners);
        nextWeights = block + random.intBetween(95, 110);
      } else {
        const [event, stepLength] = taskEvent(random, miners, block, scratch);
        line = event;
        seconds += stepLength / CONCURRENCY;
        block = startBlock + Math.floor(seconds / SECONDS_PER_BLOCK);
      }
      records++;
      if (writer.write(line)) {
        await writer.flush();
        context.report(1, writer.bytes, records);
      }
    }
  } finally {
    await writer.close();
  }
  context.report(1, writer.bytes, records);
  return { profile: 'filetao', out: context.out, files: [path], bytes: writer.bytes, records };
}
