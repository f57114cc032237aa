import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { simulateFiletao, type FiletaoOptions } from './filetao.js';
import { simulateGeneric, type GenericOptions } from './generic.js';
import { simulateOpenValidators, type OpenValidatorsOptions } from './openvalidators.js';
import { simulateRl, type RlOptions } from './rl.js';
import { parseSize } from './size.js';
import type { ProfileContext, SimulateProgress, SimulateResult } from './types.js';

export { parseSize } from './size.js';
export { Random } from './random.js';
export type { SimulateProgress, SimulateResult } from './types.js';
export type { FiletaoOptions, GenericOptions, OpenValidatorsOptions, RlOptions };

export const simulateProfiles = ['filetao', 'openvalidators', 'rl', 'generic'] as const;
export type SimulateProfile = (typeof simulateProfiles)[number];

export interface SimulateOptions extends FiletaoOptions, OpenValidatorsOptions, RlOptions, GenericOptions {
  /** Output directory (created if missing). */
  out: string;
  /** Target total size: bytes, or text such as "100MB", "1.5GB", "10MiB". */
  size: number | string;
  /** PRNG seed; the same seed and options give byte-identical files. Default 1. */
  seed?: number;
  /** Running totals, at most every `progressIntervalMs` (default 250 ms). */
  onProgress?: (progress: SimulateProgress) => void;
  progressIntervalMs?: number;
}

/**
 * Writes realistic synthetic logs for `profile` into `options.out`, streaming with bounded memory,
 * stopping once the total reaches `options.size` (within a few percent).
 */
export async function simulate(profile: string, options: SimulateOptions): Promise<SimulateResult> {
  if (!isProfile(profile)) {
    throw new UserError(`unknown simulate profile "${profile}"`, {
      hint: `choose one of: ${simulateProfiles.join(', ')}`,
    });
  }
  const targetBytes = typeof options.size === 'number' ? options.size : parseSize(options.size);
  if (!(targetBytes > 0)) throw new UserError(`the size must be positive, got ${options.size}`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UserError(`the seed must be a non-negative integer, got ${seed}`, { hint: 'e.g. --seed 42' });
  }
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const context: ProfileContext = {
    out,
    targetBytes,
    seed,
    report: throttledReport(profile, targetBytes, options),
  };
  switch (profile) {
    case 'filetao':
      return simulateFiletao(context, options);
    case 'openvalidators':
      return simulateOpenValidators(context, options);
    case 'rl':
      return simulateRl(context, options);
    case 'generic':
      return simulateGeneric(context, options);
  }
}

function isProfile(profile: string): profile is SimulateProfile {
  return (simulateProfiles as readonly string[]).includes(profile);
}

function throttledReport(
  profile: string,
  targetBytes: number,
  options: SimulateOptions,
): ProfileContext['report'] {
  const onProgress = options.onProgress;
  if (!onProgress) return () => {};
  const interval = options.progressIntervalMs ?? 250;
  let last = 0;
  return (files, bytes, records) => {
    const now = performance.now();
    if (now - last < interval && bytes < targetBytes) return;
    last = now;
    onProgress({ profile, files, bytes, records, targetBytes });
  };
}
