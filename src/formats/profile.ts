import { isPlainObject } from './record.js';

/** Lists indexed by uid rather than aligned with `uids`. */
export const UID_INDEXED_KEYS: ReadonlySet<string> = new Set([
  'set_weights',
  'neuron_weights',
  'moving_averaged_scores',
]);

/**
 * Weight vectors indexed by uid. An event with one as long as its `uids` list (FileTAO's SetWeights)
 * sets weights: its `uids` index the vector, so it is not a round of calls and gives no per-uid rows.
 */
export const WEIGHT_KEYS: ReadonlySet<string> = new Set(['set_weights', 'neuron_weights']);

/** Which program wrote the log; decides which charts and analyses make sense. */
export type Profile = 'filetao' | 'openvalidators' | 'rl' | 'generic';

export const PROFILES: readonly Profile[] = ['filetao', 'openvalidators', 'rl', 'generic'];

/** The profile one (already unwrapped) event looks like. */
export function profileOfEvent(event: Record<string, unknown>): Profile {
  if ('task_name' in event && ('uids' in event || 'set_weights' in event)) return 'filetao';
  if ('completions' in event || 'gating_loss' in event || 'neuron_weights' in event) return 'openvalidators';
  if (('name' in event || '_step' in event) && 'uids' in event) return 'openvalidators';
  if ('total_steps' in event || isPlainObject(event.position) || isFlatRlRecord(event)) return 'rl';
  return 'generic';
}

/** The old flat RL stats record: `step, x, y, map, hp, levels, badge, event, healr, deaths, …`. */
export function isFlatRlRecord(event: Record<string, unknown>): boolean {
  return (
    typeof event.map === 'number' &&
    typeof event.x === 'number' &&
    typeof event.y === 'number' &&
    !('position' in event)
  );
}

/** A loguru `serialize=True` line wraps the event in `record.extra`. */
export function unwrapLoguru(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const record = value.record;
  if (!isPlainObject(record) || !isPlainObject(record.extra) || typeof value.text !== 'string')
    return undefined;
  return record.extra;
}

/** Old flat RL keys and the nested paths they mean, so both formats give one column set. */
export const FLAT_RL_PATHS: Readonly<Record<string, string>> = {
  x: 'position.x',
  y: 'position.y',
  map: 'position.map',
  hp: 'player_status.health',
  levels: 'player_status.levels',
  levels_sum: 'player_status.levels_sum',
  badge: 'player_status.badges',
  pcount: 'player_status.pokemon_count',
  ptypes: 'player_status.pokemon_types',
  last_action: 'actions.last_action',
  deaths: 'statistics.deaths',
  coord_count: 'statistics.exploration_coords',
  max_map_progress: 'statistics.map_progress',
  healr: 'statistics.healing_reward',
  event: 'statistics.event_progress',
};

/**
 * The event a record holds: the record itself, or for a loguru line its `record.extra`, with
 * loguru's time as `_timestamp` when the event has none.
 */
export function eventOfRecord(record: Record<string, unknown>): Record<string, unknown> {
  const extra = unwrapLoguru(record);
  if (!extra) return record;
  const time = (record.record as Record<string, unknown>).time;
  if ('_timestamp' in extra || !isPlainObject(time) || typeof time.timestamp !== 'number') return extra;
  return { ...extra, _timestamp: time.timestamp };
}
