import fs from 'node:fs';
import path from 'node:path';

/** One FileTAO-like event line: 4 uids, rewards, completion times, step length (a spike at `spikeBlock`). */
export function validatorLine(block: number, spikeBlock = -1): string {
  const uids = [block % 7, (block + 1) % 7, (block + 3) % 7, 10 + (block % 3)];
  const rewards = uids.map((u, i) => Number((((u * 13 + block * 7 + i) % 100) / 100).toFixed(3)));
  const times = uids.map((u, i) => (i === 2 ? null : Number((1 + ((u + block) % 5) * 0.5).toFixed(2))));
  return `${JSON.stringify({
    task_name: block % 2 ? 'Store' : 'Challenge',
    block,
    uids,
    rewards,
    completion_times: times,
    successful: uids.map((u) => (u + block) % 3 !== 0),
    step_length: block === spikeBlock ? 1000 : 10 + (block % 4),
    set_weights: block % 50 === 0 ? Array.from({ length: 13 }, (_, u) => (u + block) / 1000) : null,
  })}\n`;
}

/** A validator log of `events` events from block `start`. */
export function writeValidatorLog(
  file: string,
  events: number,
  options: { start?: number; spikeBlock?: number } = {},
): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const start = options.start ?? 1000;
  let text = '';
  for (let i = 0; i < events; i++) text += validatorLine(start + i, options.spikeBlock);
  fs.writeFileSync(file, text);
}

/** A generic metrics log (JSON lines with `step`); `health` and `lr` never change. */
export function writeMetricsLog(file: string, steps: number, scale = 1): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let text = '';
  for (let step = 0; step < steps; step++)
    text += `${JSON.stringify({ step, loss: scale / (step + 1), accuracy: 1 - scale / (step + 2), health: 1, lr: 0.05 })}\n`;
  fs.writeFileSync(file, text);
}
