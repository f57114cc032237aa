import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface GpuMetrics {
  index: number;
  /** null when the driver reports "[N/A]" or "[Not Supported]". */
  utilization_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
}

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];
const MIB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmiCsv(text: string): GpuMetrics[] {
  const gpus: GpuMetrics[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const [index, utilization, used, total] = line.split(',').map((cell) => parseCell(cell));
    if (index === null || index === undefined) continue;
    gpus.push({
      index,
      utilization_percent: utilization ?? null,
      memory_used_bytes: used == null ? null : used * MIB,
      memory_total_bytes: total == null ? null : total * MIB,
    });
  }
  return gpus;
}

function parseCell(cell: string): number | null {
  const value = Number(cell.trim());
  return cell.trim() === '' || !Number.isFinite(value) ? null : value;
}

/** The full path of an executable found on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const directory of path.split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs nvidia-smi once (5 s timeout) and parses its output. */
export function queryGpus(executable: string): Promise<GpuMetrics[]> {
  return new Promise((resolve, reject) => {
    execFile(executable, NVIDIA_SMI_ARGS, { timeout: 5000, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(parseNvidiaSmiCsv(stdout));
    });
  });
}
