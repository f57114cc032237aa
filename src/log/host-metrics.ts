import { cpus, freemem, loadavg } from 'node:os';
import type { EventLog } from './event-log.js';
import { findOnPath, queryGpus, type GpuMetrics } from './nvidia-smi.js';

/** A host metrics sample, written as one event among the others (readers tell it by `event: "system"`). */
export interface SystemEvent {
  event: 'system';
  /** Unix time in seconds, like Python's time.time(). */
  time: number;
  /** Busy share of all CPU cores since the previous sample, 0–100. */
  cpu_percent: number;
  /** Resident memory of this process. */
  rss_bytes: number;
  load1: number;
  free_memory_bytes: number;
  /** One entry per GPU when nvidia-smi is on PATH, else empty. */
  gpus: GpuMetrics[];
}

export interface HostMetricsOptions {
  /** Sampling period (default 10 s). */
  everyMs?: number;
  /** nvidia-smi to run; default: the one on PATH if any; false: no GPU metrics. */
  nvidiaSmi?: string | false;
  /** Errors while sampling or writing (default: a process warning). Sampling goes on. */
  onError?: (error: Error) => void;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/**
 * Writes a `system` event to the log every `everyMs`. The timer is unref'd (it never keeps the
 * process alive). Returns a function that stops sampling. System events bypass schema validation.
 */
export function startHostMetrics(
  log: Pick<EventLog<any>, 'write'> & { readonly closed?: boolean },
  options: HostMetricsOptions = {},
): () => void {
  const everyMs = options.everyMs ?? 10_000;
  if (!(everyMs > 0)) throw new RangeError(`everyMs must be a positive number, got ${everyMs}`);
  const nvidiaSmi = options.nvidiaSmi === false ? undefined : (options.nvidiaSmi ?? findOnPath('nvidia-smi'));
  const onError = options.onError ?? ((error: Error) => process.emitWarning(error));
  let previous = cpuTimes();
  let sampling = false;
  let stopped = false;

  const sample = async (): Promise<void> => {
    const now = cpuTimes();
    const total = now.total - previous.total;
    const cpuPercent = total > 0 ? (100 * (now.busy - previous.busy)) / total : 0;
    previous = now;
    const event: SystemEvent = {
      event: 'system',
      time: Date.now() / 1000,
      cpu_percent: Math.round(cpuPercent * 10) / 10,
      rss_bytes: process.memoryUsage.rss(),
      load1: loadavg()[0],
      free_memory_bytes: freemem(),
      gpus: [],
    };
    if (nvidiaSmi) {
      try {
        event.gpus = await queryGpus(nvidiaSmi);
      } catch (error) {
        onError(error as Error);
      }
    }
    if (!stopped && !log.closed) log.write(event);
  };

  const timer = setInterval(() => {
    if (log.closed) return stop();
    if (sampling) return; // the previous nvidia-smi call is still running
    sampling = true;
    sample()
      .catch((error: Error) => onError(error))
      .finally(() => (sampling = false));
  }, everyMs);
  timer.unref();
  function stop(): void {
    stopped = true;
    clearInterval(timer);
  }
  return stop;
}
