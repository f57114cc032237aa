import { join } from 'node:path';
import { UserError } from '../errors.js';
import { makeHotkey } from './hotkey.js';
import { loguruWrapper, historyExtras } from './openvalidators-format.js';
import { positiveInteger } from './options.js';
import {
  goodCompletion,
  offTopicCompletion,
  paragraph,
  pickTopic,
  prompt,
  SPAM_COMPLETIONS,
} from './openvalidators-text.js';
import {
  pyFloat,
  pyIntList,
  pyRounded,
  pyRoundedList,
  pyString,
  pyStringList,
  round,
} from './python-json.js';
import { clamp, Random, sigmoid } from './random.js';
import type { ProfileContext, SimulateResult } from './types.js';
import { ChunkWriter } from './writer.js';

export interface OpenValidatorsOptions {
  /** Which files to write: completions.log, history.jsonl or both (default; --size is their total). */
  files?: 'completions' | 'history' | 'both';
  /** Network size for OpenValidators (neuron_weights length); default 1024. */
  neurons?: number;
  /** Miners queried per step; default 50. */
  sampleSize?: number;
  /** A sparse weights row in history.jsonl about every N steps; default 100. */
  weightsEvery?: number;
}

const NAMES = [
  'augment',
  'followup0',
  'answer0',
  'followup1',
  'answer1',
  'followup2',
  'answer2',
  'followup3',
  'answer3',
];
const REWARD_MODELS = [
  { name: 'dpo_reward_model', scale: 6, offset: -9, weight: 0.3 },
  { name: 'rlhf_reward_model', scale: 5, offset: -1.5, weight: 0.3 },
  { name: 'reciprocate_reward_model', scale: 4, offset: -2, weight: 0.2 },
  { name: 'dahoas_reward_model', scale: 1.5, offset: -0.5, weight: 0.1 },
  { name: 'prompt_reward_model', scale: 1, offset: 0, weight: 0.1 },
];
const TIMEOUT_SECONDS = 12;
const EMA_ALPHA = 0.05;
const START_TIMESTAMP = 1_693_300_000;
const START_BLOCK = 1_874_000;

/** What a miner is like: good ones answer on topic, spammers repeat canned text, some are offline. */
interface Miner {
  quality: number;
  base: number;
  medianSeconds: number;
  failRate: number;
  kind: 'good' | 'spam' | 'offtopic' | 'offline';
}

function createMiner(random: Random): Miner {
  const u = random.next();
  const kind = u < 0.08 ? 'offline' : u < 0.2 ? 'spam' : u < 0.27 ? 'offtopic' : 'good';
  const base = sigmoid(1.2 * random.normal() + (kind === 'good' ? 0.5 : -0.8));
  return {
    quality: base,
    base,
    medianSeconds: random.logNormal(kind === 'spam' ? 0.8 : 3.5, 0.5),
    failRate: kind === 'offline' ? 1 : clamp(random.logNormal(0.05, 0.8), 0, 0.6),
    kind,
  };
}

interface Completion {
  text: string;
  seconds: number;
  failed: boolean;
  onTopic: boolean;
  spam: boolean;
}

function complete(random: Random, miner: Miner, name: string, topic: string): Completion {
  if (random.chance(miner.failRate)) {
    const seconds = random.chance(0.7) ? TIMEOUT_SECONDS : random.uniform(0.2, TIMEOUT_SECONDS);
    return { text: '', seconds, failed: true, onTopic: false, spam: false };
  }
  const seconds = Math.min(TIMEOUT_SECONDS, random.logNormal(miner.medianSeconds, 0.45));
  if (miner.kind === 'spam' || (miner.quality < 0.2 && random.chance(0.3))) {
    return { text: random.pick(SPAM_COMPLETIONS), seconds, failed: false, onTopic: false, spam: true };
  }
  if (miner.kind === 'offtopic' && random.chance(0.7)) {
    return { text: offTopicCompletion(random), seconds, failed: false, onTopic: false, spam: false };
  }
  return {
    text: goodCompletion(random, name, topic, miner.quality),
    seconds,
    failed: false,
    onTopic: true,
    spam: false,
  };
}

/** One validator step: the event's JSON members (without braces) and what the wrappers need. */
function stepEvent(
  random: Random,
  miners: Miner[],
  scores: Float64Array,
  step: number,
  block: number,
  sampleSize: number,
  scratch: Int32Array,
  conversation: { topic: string; context: string },
): { members: string; stepLength: number } {
  const name = NAMES[step % NAMES.length];
  if (name === 'augment') {
    conversation.topic = pickTopic(random);
    conversation.context = paragraph(random, conversation.topic, random.intBetween(3, 8));
  }
  const uids = random.sample(miners.length, sampleSize, scratch);
  const n = uids.length;
  const completions: Completion[] = uids.map((uid) =>
    complete(random, miners[uid], name, conversation.topic),
  );
  const counts = new Map<string, number>();
  for (const c of completions) if (!c.failed) counts.set(c.text, (counts.get(c.text) ?? 0) + 1);
  let lists = '';
  const total = new Float64Array(n);
  for (const model of REWARD_MODELS) {
    const raw = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = completions[i];
      const q = miners[uids[i]].quality * (c.spam ? 0.2 : c.onTopic ? 1 : 0.5);
      raw[i] = c.failed ? NaN : round(model.offset + model.scale * (q + 0.25 * random.normal()), 5);
    }
    const normalized = minMaxNormalize(raw);
    for (let i = 0; i < n; i++) total[i] += model.weight * normalized[i];
    lists += `"${model.name}": ${pyRoundedList(raw, 5)}, "${model.name}_normalized": ${pyRoundedList(normalized, 5)}, `;
  }
  const filter = (pass: (c: Completion) => boolean): Float64Array =>
    Float64Array.from(completions, (c) => (c.failed ? NaN : pass(c) ? 1 : 0));
  const blacklist = filter((c) => !(c.spam && random.chance(0.6)));
  const taskValidator = filter(
    (c) => !(name.startsWith('followup') !== c.text.endsWith('?') && random.chance(0.5)),
  );
  const relevance = filter((c) => c.onTopic || random.chance(0.1));
  const diversity = Float64Array.from(completions, (c) =>
    c.failed ? NaN : round(clamp(1 / (counts.get(c.text) ?? 1) - 0.05 * random.next(), 0, 1), 5),
  );
  const nsfw = filter(() => !random.chance(0.005));
  const zeroNaN = (values: Float64Array) => values.map((v) => (v !== v ? 0 : v));
  lists +=
    `"blacklist_filter": ${pyRoundedList(blacklist, 5)}, "blacklist_filter_normalized": ${pyRoundedList(zeroNaN(blacklist), 5)}, ` +
    `"task_validator_filter": ${pyRoundedList(taskValidator, 5)}, "task_validator_filter_normalized": ${pyRoundedList(zeroNaN(taskValidator), 5)}, ` +
    `"relevance_filter": ${pyRoundedList(relevance, 5)}, "relevance_filter_normalized": ${pyRoundedList(zeroNaN(relevance), 5)}, ` +
    `"diversity_reward_model": ${pyRoundedList(diversity, 5)}, "diversity_reward_model_normalized": ${pyRoundedList(zeroNaN(diversity), 5)}, ` +
    `"nsfw_filter": ${pyRoundedList(nsfw, 5)}, "nsfw_filter_normalized": ${pyRoundedList(zeroNaN(nsfw), 5)}`;
  const rewards = new Float64Array(n);
  let best = -1;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    const c = completions[i];
    if (c.seconds > longest) longest = c.seconds;
    if (!c.failed) {
      const mask = blacklist[i] * taskValidator[i] * relevance[i] * nsfw[i];
      rewards[i] = round(mask * total[i] * (0.7 + 0.3 * diversity[i]), 5);
      if (best < 0 || rewards[i] > rewards[best]) best = i;
    }
    scores[uids[i]] = EMA_ALPHA * rewards[i] + (1 - EMA_ALPHA) * scores[uids[i]];
  }
  const stepLength = round(longest + random.uniform(0.3, 1.5), 3);
  const gatingLoss = random.logNormal(5e-5 + 0.02 * Math.exp(-step / 3000), 1.2);
  const members =
    `"name": "${name}", "block": ${block}, "gating_loss": ${pyFloat(gatingLoss)}, ` +
    `"prompt": ${pyString(prompt(random, name, conversation.topic, conversation.context))}, ` +
    `"step_length": ${pyRounded(stepLength, 3)}, "uids": ${pyIntList(uids)}, ` +
    `"completions": ${pyStringList(completions.map((c) => c.text))}, ` +
    `"completion_times": ${pyRoundedList(
      completions.map((c) => c.seconds),
      3,
    )}, ${lists}, ` +
    `"rewards": ${pyRoundedList(rewards, 5)}, "best": ${pyString(best < 0 ? '' : completions[best].text)}`;
  return { members, stepLength };
}

/** Min-max over the finite values, rounded to 5 places; NaN (failed calls) become 0.0. */
function minMaxNormalize(raw: Float64Array): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of raw) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  return raw.map((v) => (v !== v ? 0 : span > 0 ? round((v - min) / span, 5) : 1));
}

/** Slow drift of every miner towards its own base quality, plus noise. */
function drift(random: Random, miners: Miner[]): void {
  for (const miner of miners) {
    miner.quality = clamp(miner.quality + 0.05 * (miner.base - miner.quality) + 0.03 * random.normal(), 0, 1);
  }
}

/**
 * OpenValidators text-prompting validator: DIR/completions.log (loguru serialize=True lines, the event
 * in record.extra) and DIR/history.jsonl (wandb-style rows plus sparse neuron_weights rows).
 */
export async function simulateOpenValidators(
  context: ProfileContext,
  options: OpenValidatorsOptions,
): Promise<SimulateResult> {
  const which = options.files ?? 'both';
  if (!['completions', 'history', 'both'].includes(which)) {
    throw new UserError(`unknown --files "${which}"`, { hint: 'choose completions, history or both' });
  }
  const neurons = positiveInteger(options.neurons ?? 1024, '--uids');
  const sampleSize = Math.min(neurons, positiveInteger(options.sampleSize ?? 50, 'sampleSize'));
  const weightsEvery = Math.max(1, options.weightsEvery ?? 100);
  const random = new Random(context.seed);
  const minerRandom = random.fork();
  const miners = Array.from({ length: neurons }, () => createMiner(minerRandom));
  const hotkeys = pyStringList(Array.from({ length: neurons }, () => makeHotkey(minerRandom)));
  const scores = new Float64Array(neurons);
  const scratch = new Int32Array(neurons);
  const log = which === 'history' ? undefined : await ChunkWriter.open(join(context.out, 'completions.log'));
  const history =
    which === 'completions' ? undefined : await ChunkWriter.open(join(context.out, 'history.jsonl'));
  const writers = [log, history].filter((w): w is ChunkWriter => w !== undefined);
  const bytes = () => writers.reduce((sum, w) => sum + w.bytes, 0);
  const conversation = { topic: '', context: '' };
  let records = 0;
  let runtime = 0;
  let wandbStep = 0;
  let nextWeights = weightsEvery;
  let processSeconds = random.uniform(20, 60);
  try {
    for (let step = 0; bytes() < context.targetBytes; step++) {
      const block = START_BLOCK + Math.floor(runtime / 12);
      const event = stepEvent(random, miners, scores, step, block, sampleSize, scratch, conversation);
      let flush = false;
      if (log)
        flush = log.write(loguruWrapper(event.members, START_TIMESTAMP + runtime, processSeconds)) || flush;
      if (history) {
        flush =
          history.write(`{${event.members}, ${historyExtras(wandbStep++, runtime, START_TIMESTAMP)}}\n`) ||
          flush;
        if (step + 1 >= nextWeights) {
          const weights = pyRoundedList(scores, 6);
          const row =
            `{"step": ${step + 1}, "block": ${block}, "neuron_weights": ${weights}, "neuron_hotkeys": ${hotkeys}, ` +
            `"_step": ${wandbStep++}, "_timestamp": ${pyFloat(START_TIMESTAMP + runtime + random.uniform(0.01, 0.5))}}\n`;
          flush = history.write(row) || flush;
          records++;
          const jitter = Math.floor(weightsEvery / 10);
          nextWeights += weightsEvery + random.intBetween(-jitter, jitter);
          drift(random, miners);
        }
      }
      records += writers.length;
      const elapsed = event.stepLength + random.uniform(0.05, 0.4);
      runtime += elapsed;
      processSeconds += elapsed;
      if (flush) {
        for (const writer of writers) await writer.flush();
        context.report(writers.length, bytes(), records);
      }
    }
  } finally {
    for (const writer of writers) await writer.close();
  }
  context.report(writers.length, bytes(), records);
  return {
    profile: 'openvalidators',
    out: context.out,
    files: writers.map((w) => w.path),
    bytes: bytes(),
    records,
  };
}
