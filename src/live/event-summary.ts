type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The event a log line carries: the object itself, or loguru's `record.extra` for a line written
 * with `serialize=True` (then `time` is the record's timestamp). Undefined for non-objects.
 */
export function unwrapEvent(value: unknown): { event: Fields; time?: number; loguru: boolean } | undefined {
  if (!isObject(value)) return undefined;
  const record = value.record;
  if (isObject(record) && isObject(record.extra) && typeof value.text === 'string') {
    const time =
      isObject(record.time) && typeof record.time.timestamp === 'number' ? record.time.timestamp : undefined;
    return { event: record.extra, time, loguru: true };
  }
  return { event: value, time: eventTime(value), loguru: false };
}

function eventTime(event: Fields): number | undefined {
  for (const key of ['time', '_timestamp', 'timestamp']) {
    const value = event[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value > 1e12 ? value / 1000 : value;
  }
  return undefined;
}

/** One compact line for a person: time, block/step, task and the key numbers of the event. */
export function summarizeEvent(value: unknown): string {
  const unwrapped = unwrapEvent(value);
  if (!unwrapped) return formatValue(value);
  const { event, time } = unwrapped;
  const parts: string[] = [];
  if (time !== undefined) parts.push(formatTime(time));
  if (event.event === 'system') parts.push(...systemParts(event));
  else if (typeof event.task_name === 'string') parts.push(...validatorParts(event, event.task_name));
  else if (typeof event.name === 'string' && Array.isArray(event.uids))
    parts.push(...validatorParts(event, event.name));
  else parts.push(...genericParts(event));
  return parts.join('  ');
}

function validatorParts(event: Fields, task: string): string[] {
  const parts = [typeof event.block === 'number' ? `block ${event.block}` : '', task];
  const uids = Array.isArray(event.uids) ? event.uids.length : 0;
  if (Array.isArray(event.set_weights)) parts.push(`weights for ${event.set_weights.length} uids`);
  else if (uids > 0) parts.push(`${uids} uids`);
  if (Array.isArray(event.successful) && task !== 'SetWeights') {
    parts.push(`ok ${event.successful.filter((ok) => ok === true).length}/${event.successful.length}`);
  }
  const rewards = numbers(event.rewards);
  if (rewards.length > 0)
    parts.push(`reward mean ${formatNumber(mean(rewards))} max ${formatNumber(Math.max(...rewards))}`);
  if (typeof event.best_uid === 'number') parts.push(`best uid ${event.best_uid}`);
  if (typeof event.best === 'string' && event.best !== '')
    parts.push(`best ${JSON.stringify(shorten(event.best, 40))}`);
  if (typeof event.step_length === 'number') parts.push(`step ${formatNumber(event.step_length)}s`);
  return parts.filter((part) => part !== '');
}

function systemParts(event: Fields): string[] {
  const parts = ['system'];
  if (typeof event.cpu_percent === 'number') parts.push(`cpu ${formatNumber(event.cpu_percent)}%`);
  if (typeof event.rss_bytes === 'number') parts.push(`rss ${formatBytes(event.rss_bytes)}`);
  if (typeof event.load1 === 'number') parts.push(`load1 ${formatNumber(event.load1)}`);
  if (typeof event.free_memory_bytes === 'number') parts.push(`free ${formatBytes(event.free_memory_bytes)}`);
  if (Array.isArray(event.gpus)) {
    for (const gpu of event.gpus.filter(isObject)) {
      const used = typeof gpu.memory_used_bytes === 'number' ? formatBytes(gpu.memory_used_bytes) : '?';
      const total = typeof gpu.memory_total_bytes === 'number' ? formatBytes(gpu.memory_total_bytes) : '?';
      parts.push(`gpu${String(gpu.index)} ${formatValue(gpu.utilization_percent)}% ${used}/${total}`);
    }
  }
  return parts;
}

const STEP_KEYS = ['block', 'total_steps', '_step', 'step'];
const SKIP_KEYS = new Set(['time', '_timestamp', 'timestamp', ...STEP_KEYS]);

function genericParts(event: Fields): string[] {
  const parts: string[] = [];
  for (const key of STEP_KEYS) if (typeof event[key] === 'number') parts.push(`${key} ${String(event[key])}`);
  const rewards = event.rewards;
  if (isObject(rewards) && typeof rewards.total === 'number')
    parts.push(`reward ${formatNumber(rewards.total)}`);
  let shown = 0;
  for (const [key, value] of Object.entries(event)) {
    if (SKIP_KEYS.has(key) || key === 'rewards' || shown >= 6) continue;
    if (Array.isArray(value)) parts.push(`${key}[${value.length}]`);
    else if (isObject(value)) continue;
    else parts.push(`${key}=${formatValue(value)}`);
    shown++;
  }
  return parts;
}

function numbers(value: unknown): number[] {
  return Array.isArray(value)
    ? value.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    : [];
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return JSON.stringify(shorten(value, 40));
  if (value === null || value === undefined) return String(value);
  return shorten(JSON.stringify(value) ?? String(value), 60);
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Unix seconds as "YYYY-MM-DD HH:MM:SS" in UTC. */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
