import type { EventSink } from './event-sink.js';
import { FLAT_RL_PATHS, isFlatRlRecord, profileOfEvent, unwrapLoguru, type Profile } from './profile.js';
import { isPlainObject } from './record.js';

/** Lists indexed by uid rather than aligned with `uids`. */
export const UID_INDEXED_KEYS: ReadonlySet<string> = new Set([
  'set_weights',
  'neuron_weights',
  'moving_averaged_scores',
]);

/**
 * Turns one raw record into normalised calls on the sink and returns the profile it looks like.
 * Loguru lines are unwrapped to `record.extra` (with loguru's timestamp as `_timestamp` when the
 * event has none); old flat RL records are renamed to the nested paths; nested keys become dotted
 * paths; lists aligned with `uids` become per-uid vectors; lists indexed by uid are kept as such.
 */
export function normalizeRecord(raw: Record<string, unknown>, line: number, sink: EventSink): Profile {
  let event = raw;
  let loguruTime: number | undefined;
  const extra = unwrapLoguru(raw);
  if (extra) {
    event = extra;
    const time = (raw.record as Record<string, unknown>).time;
    if (isPlainObject(time) && typeof time.timestamp === 'number') loguruTime = time.timestamp;
  }
  const profile = profileOfEvent(event);
  sink.beginEvent(line);
  const uids = uidList(event.uids);
  if (uids) sink.uids(uids);
  const rename = profile === 'rl' && isFlatRlRecord(event) ? FLAT_RL_PATHS : undefined;
  walk(event, '', uids?.length, rename, sink);
  if (loguruTime !== undefined && !('_timestamp' in event)) sink.number('_timestamp', loguruTime);
  sink.endEvent();
  return profile;
}

function walk(
  object: Record<string, unknown>,
  prefix: string,
  uidCount: number | undefined,
  rename: Readonly<Record<string, string>> | undefined,
  sink: EventSink,
): void {
  for (const key in object) {
    const value = object[key];
    const path = prefix === '' ? (rename?.[key] ?? key) : nestedPath(prefix, key);
    switch (typeof value) {
      case 'number':
        sink.number(path, value);
        break;
      case 'boolean':
        sink.number(path, value ? 1 : 0);
        break;
      case 'string':
        sink.text(path, value);
        break;
      case 'object':
        if (value === null) sink.other(path, 'null');
        else if (Array.isArray(value)) {
          if (prefix === '' && key === 'uids' && uidCount !== undefined) break;
          if (prefix === '' && UID_INDEXED_KEYS.has(key)) sink.uidIndexed(key, value);
          else if (uidCount !== undefined && value.length === uidCount && uidCount > 0)
            sink.uidVector(path, value);
          else sink.other(path, 'list');
        } else walk(value as Record<string, unknown>, path, uidCount, undefined, sink);
        break;
      default:
        break;
    }
  }
}

/**
 * Dotted paths of nested keys, made once: the sink looks each path up in maps (field catalogue,
 * columns), and a string made afresh for every record must be hashed afresh for every lookup (an
 * RL ingest spent a quarter of its time there). Bounded: keys beyond PATHS_PER_PREFIX under one
 * prefix (an object keyed by ids, say) are joined each time.
 */
const nestedPaths = new Map<string, Map<string, string>>();
const PATHS_PER_PREFIX = 4096;

function nestedPath(prefix: string, key: string): string {
  let paths = nestedPaths.get(prefix);
  if (paths === undefined) {
    if (nestedPaths.size >= PATHS_PER_PREFIX) return `${prefix}.${key}`;
    paths = new Map();
    nestedPaths.set(prefix, paths);
  }
  let path = paths.get(key);
  if (path === undefined) {
    path = `${prefix}.${key}`;
    if (paths.size < PATHS_PER_PREFIX) paths.set(key, path);
  }
  return path;
}

function uidList(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const uid of value) if (typeof uid !== 'number' || !Number.isInteger(uid)) return undefined;
  return value as number[];
}
