import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { Agent } from './rl-agent.js';
import { flatRecord, nestedRecord } from './rl-format.js';
import { positiveInteger } from './options.js';
import { clamp, Random } from './random.js';
import type { ProfileContext, SimulateResult } from './types.js';
import { ChunkWriter } from './writer.js';

export interface RlOptions {
  /** Experiment variant: files go to DIR/experiments/<variant>/<YYYYMMDD_HHMMSS>/; default "v4". */
  variant?: string;
  /** Records per stats file (envs × steps per env); default 65536. Reduced for small sizes (≥ 3 files). */
  recordsPerFile?: number;
  /** Parallel environments; default 32. */
  envs?: number;
  /** How many leading files use the old flat format; default 1. */
  flatFiles?: number;
  /**
   * Episode length in steps per env; default a whole number of files' worth of steps, chosen so the
   * run holds about 8 or more episodes (1 file per episode for small runs, up to 10 for large ones).
   */
  episodeLength?: number;
}

/** Starting guesses for bytes per record; replaced by measured averages after each file. */
const ESTIMATED_BYTES = { flat: 265, nested: 920 };
/** 2025-07-26 11:07:14 UTC, plus a per-seed offset so runs of different seeds do not share a folder. */
const BASE_START = 1_753_528_034;
const ENV_STEPS_PER_SECOND = 900;

type Format = keyof typeof ESTIMATED_BYTES;

/**
 * A Pokémon Red RL training run: DIR/experiments/<variant>/<stamp>/json_logs/stats_<unix>.json
 * (each one JSON array, env-major, the first `flatFiles` in the old flat format, the rest nested with
 * indent=2), stats_final_<unix>.json last, and <variant>.yaml. Agents get better as training goes on.
 */
export async function simulateRl(context: ProfileContext, options: RlOptions): Promise<SimulateResult> {
  const variant = options.variant ?? 'v4';
  if (!/^[\w.-]+$/.test(variant)) {
    throw new UserError(`the variant "${variant}" is not a plain folder name`, { hint: 'e.g. --variant v4' });
  }
  const envs = positiveInteger(options.envs ?? 32, '--envs');
  const flatFiles = Math.max(0, Math.trunc(options.flatFiles ?? 1));
  const estimate = { ...ESTIMATED_BYTES };
  const formatOf = (index: number): Format => (index < flatFiles ? 'flat' : 'nested');
  let recordsPerFile = positiveInteger(options.recordsPerFile ?? 65536, '--records-per-file');
  const threeFiles = estimate[formatOf(0)] + estimate[formatOf(1)] + estimate[formatOf(2)];
  if (recordsPerFile * threeFiles > context.targetBytes) {
    recordsPerFile = Math.max(envs, Math.floor(context.targetBytes / threeFiles));
  }
  const stepsPerFile = Math.max(1, Math.floor(recordsPerFile / envs));
  const plan = plannedRun(context.targetBytes, envs, stepsPerFile, formatOf, estimate);
  const filesPerEpisode = clamp(Math.round(plan.files / 8), 1, 10);
  const episodeLength = positiveInteger(
    options.episodeLength ?? stepsPerFile * filesPerEpisode,
    '--episode-length',
  );
  const plannedSteps = plan.steps;

  const random = new Random(context.seed);
  let clock = BASE_START + (context.seed % 100_000) * 60;
  const runDir = join(context.out, 'experiments', variant, stamp(clock));
  const logDir = join(runDir, 'json_logs');
  await mkdir(logDir, { recursive: true });
  const yamlPath = join(runDir, `${variant}.yaml`);
  const yaml = `session_root: experiments/${variant}\nn_steps: ${stepsPerFile}\nnum_cpu: ${envs}\n`;
  await writeFile(yamlPath, yaml);
  const files = [yamlPath];
  let bytes = Buffer.byteLength(yaml);
  let records = 0;
  let totalSteps = 0;
  const envRandoms = Array.from({ length: envs }, () => random.fork());
  const envOffsets = envRandoms.map((r) => 0.07 * r.normal());
  const agents = envOffsets.map(() => new Agent(0));

  const writeStats = async (
    name: string,
    format: Format,
    render: (writer: ChunkWriter) => Promise<number>,
  ) => {
    const path = join(logDir, name);
    const writer = await ChunkWriter.open(path);
    let count = 0;
    try {
      writer.write(format === 'flat' ? '[' : '[\n');
      count = await render(writer);
      writer.write(format === 'flat' ? ']' : '\n]');
    } finally {
      await writer.close();
    }
    files.push(path);
    bytes += writer.bytes;
    records += count;
    return { bytes: writer.bytes, count };
  };

  let lastFormat: Format = formatOf(0);
  for (let index = 0; ; index++) {
    const format = formatOf(index);
    const finalBytes = envs * estimate[formatOf(index + 1)];
    const remaining = context.targetBytes - bytes - finalBytes;
    const fullFile = envs * stepsPerFile * estimate[format];
    // Done when the target is reached, or so nearly that the rest would be a sliver of a file.
    if (index > 0 && remaining < Math.min(0.02 * context.targetBytes, 0.5 * fullFile)) break;
    // Aim 2% high: later records run a little longer than the estimate, and a sliver of a file is worse.
    const steps = clamp(Math.ceil((remaining * 1.02) / (envs * estimate[format])), 1, stepsPerFile);
    const progress = (totalSteps / envs + steps / 2) / plannedSteps;
    totalSteps += steps * envs;
    clock += Math.round((steps * envs) / ENV_STEPS_PER_SECOND + random.uniform(5, 20));
    const written = await writeStats(`stats_${clock}.json`, format, async (writer) => {
      let count = 0;
      for (let env = 0; env < envs; env++) {
        const agent = agents[env];
        const envRandom = envRandoms[env];
        agent.skill = skillAt(progress, envOffsets[env] + 0.03 * envRandom.normal());
        for (let step = 0; step < steps; step++) {
          if (agent.step >= episodeLength) agent.reset();
          agent.advance(envRandom);
          const text = format === 'flat' ? flatRecord(agent) : nestedRecord(agent, totalSteps);
          const separator = count === 0 ? '' : format === 'flat' ? ', ' : ',\n';
          count++;
          if (writer.write(separator + text)) {
            await writer.flush();
            context.report(files.length + 1, bytes + writer.bytes, records + count);
          }
        }
      }
      return count;
    });
    estimate[format] = written.bytes / written.count;
    lastFormat = format;
  }

  const finalFormat = lastFormat;
  clock += Math.round(random.uniform(2, 8));
  await writeStats(`stats_final_${clock}.json`, finalFormat, async (writer) => {
    agents.forEach((agent, env) => {
      const text = finalFormat === 'flat' ? flatRecord(agent) : nestedRecord(agent, totalSteps);
      writer.write((env === 0 ? '' : finalFormat === 'flat' ? ', ' : ',\n') + text);
    });
    return envs;
  });
  context.report(files.length, bytes, records);
  return { profile: 'rl', out: context.out, files, bytes, records };
}

/** Skill grows with training progress (a concave learning curve), per-env offset on top. */
function skillAt(progress: number, offset: number): number {
  const learned = 1 - (1 - clamp(progress, 0, 1)) ** 1.5;
  return clamp(0.05 + 0.9 * learned + offset, 0.02, 0.98);
}

/** Files and steps per env the whole run will take, from the size estimates (drives the learning curve). */
function plannedRun(
  target: number,
  envs: number,
  stepsPerFile: number,
  formatOf: (index: number) => Format,
  estimate: Record<Format, number>,
): { files: number; steps: number } {
  let bytes = 0;
  let steps = 0;
  let files = 0;
  for (; bytes < target && files < 1_000_000; files++) {
    const format = formatOf(files);
    const fileSteps = clamp(Math.ceil((target - bytes) / (envs * estimate[format])), 1, stepsPerFile);
    bytes += fileSteps * envs * estimate[format];
    steps += fileSteps;
  }
  return { files, steps: Math.max(1, steps) };
}

/** YYYYMMDD_HHMMSS in UTC. */
function stamp(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
