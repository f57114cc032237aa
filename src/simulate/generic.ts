import { join } from 'node:path';
import { pyRounded } from './python-json.js';
import { Random } from './random.js';
import type { ProfileContext, SimulateResult } from './types.js';
import { ChunkWriter } from './writer.js';

export interface GenericOptions {
  /** Also write DIR/metrics.csv (same rows, `eval.loss` style column names); default false. */
  csv?: boolean;
  /** Evaluate (write `eval.*`) every N steps; default 50. */
  evalEvery?: number;
}

/** Rough bytes per step (JSON line, plus CSV row), used only to size the learning-rate schedule. */
const BYTES_PER_STEP = 115;
const CSV_HEADER = 'step,epoch,loss,accuracy,lr,grad_norm,eval.loss,eval.accuracy\n';
const PEAK_LR = 1e-3;

/** A supervised training run: loss falls and accuracy rises as the (warm-up + cosine) schedule goes. */
class TrainingRun {
  private smoothLoss = 2.3;

  constructor(
    private readonly random: Random,
    private readonly totalSteps: number,
    private readonly evalEvery: number,
  ) {}

  /** Formatted values of one step (rounded about as the Hugging Face Trainer logs them); eval may be absent. */
  step(step: number): {
    epoch: string;
    loss: string;
    accuracy: string;
    lr: string;
    gradNorm: string;
    eval?: string[];
  } {
    const random = this.random;
    const progress = step / this.totalSteps;
    const warmup = Math.max(10, Math.round(this.totalSteps * 0.03));
    const lr =
      step < warmup
        ? (PEAK_LR * (step + 1)) / warmup
        : PEAK_LR * (0.1 + 0.45 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    const floor = 0.15 + 0.05 * Math.sin(step / 997);
    this.smoothLoss = floor + (this.smoothLoss - floor) * (1 - (8 * lr) / (PEAK_LR * this.totalSteps));
    const spike = random.chance(0.002) ? random.uniform(0.5, 2) : 0;
    const loss = Math.max(0.01, this.smoothLoss * Math.exp(0.08 * random.normal()) + spike);
    const accuracy = Math.min(1, Math.max(0, 1 - loss / 2.6 + 0.02 * random.normal()));
    const gradNorm = random.logNormal(1 + 3 * Math.exp(-10 * progress), 0.3) + spike * 5;
    const values = {
      epoch: pyRounded(step / Math.max(10, Math.round(this.totalSteps / 3)), 2),
      loss: pyRounded(loss, 4),
      accuracy: pyRounded(accuracy, 4),
      lr: pyRounded(lr, 9),
      gradNorm: pyRounded(gradNorm, 4),
    };
    if ((step + 1) % this.evalEvery !== 0) return values;
    const evalLoss = this.smoothLoss * (1.05 + 0.2 * progress) * Math.exp(0.03 * random.normal());
    const evalAccuracy = Math.min(1, Math.max(0, 1 - evalLoss / 2.5));
    return { ...values, eval: [pyRounded(evalLoss, 4), pyRounded(evalAccuracy, 4)] };
  }
}

/**
 * A generic training run: DIR/metrics.jsonl with `step`, `epoch`, `loss`, `accuracy`, `lr`, `grad_norm`,
 * and a nested `eval: {loss, accuracy}` every `evalEvery` steps; with `csv`, DIR/metrics.csv as well.
 */
export async function simulateGeneric(
  context: ProfileContext,
  options: GenericOptions,
): Promise<SimulateResult> {
  const evalEvery = Math.max(1, options.evalEvery ?? 50);
  const totalSteps = Math.max(
    100,
    Math.round(context.targetBytes / (BYTES_PER_STEP * (options.csv ? 1.46 : 1))),
  );
  const run = new TrainingRun(new Random(context.seed), totalSteps, evalEvery);
  const json = await ChunkWriter.open(join(context.out, 'metrics.jsonl'));
  const csv = options.csv ? await ChunkWriter.open(join(context.out, 'metrics.csv')) : undefined;
  const writers = csv ? [json, csv] : [json];
  const bytes = () => json.bytes + (csv ? csv.bytes : 0);
  let records = 0;
  try {
    csv?.write(CSV_HEADER);
    for (let step = 0; bytes() < context.targetBytes; step++) {
      const v = run.step(step);
      const evalJson = v.eval ? `, "eval": {"loss": ${v.eval[0]}, "accuracy": ${v.eval[1]}}` : '';
      let flush = json.write(
        `{"step": ${step}, "epoch": ${v.epoch}, "loss": ${v.loss}, "accuracy": ${v.accuracy}, ` +
          `"lr": ${v.lr}, "grad_norm": ${v.gradNorm}${evalJson}}\n`,
      );
      if (csv) {
        const evalCsv = v.eval ? `${v.eval[0]},${v.eval[1]}` : ',';
        flush =
          csv.write(`${step},${v.epoch},${v.loss},${v.accuracy},${v.lr},${v.gradNorm},${evalCsv}\n`) || flush;
      }
      records += writers.length;
      if (flush) {
        for (const writer of writers) await writer.flush();
        context.report(writers.length, bytes(), records);
      }
    }
  } finally {
    for (const writer of writers) await writer.close();
  }
  context.report(writers.length, bytes(), records);
  return { profile: 'generic', out: context.out, files: writers.map((w) => w.path), bytes: bytes(), records };
}
