import { UserError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Parses a byte size such as "100MB", "1.5GB", "500KB", "10MiB" or "123456".
 * KB/MB/GB/TB (and K/M/G/T) are decimal (1 MB = 1,000,000 bytes); KiB/MiB/GiB/TiB are binary.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UserError(`cannot read the size "${text}"`, {
      hint: 'give a number with an optional unit, e.g. 500KB, 100MB, 1.5GB, 2GB or 10MiB (KB/MB/GB are decimal, KiB/MiB/GiB binary)',
    });
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!(bytes > 0)) {
    throw new UserError(`the size "${text}" is zero`, { hint: 'give a positive size, e.g. 100MB' });
  }
  return bytes;
}
