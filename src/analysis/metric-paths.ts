import { X_CANDIDATES } from '../engine/candidates.js';

/** Fields that identify or locate rather than measure, and fields other charts already show. */
const NOT_METRICS = new Set([...X_CANDIDATES, 'file_id', 'rec', 'line', '_runtime']);
const SHOWN_ELSEWHERE = /^(rewards\.|position\.)|(^|\.)(uid|best_uid)$/;

/** Is a numeric per-event field a metric for the metrics chart (not an x candidate, id, or charted elsewhere)? */
export function isMetricPath(path: string): boolean {
  return !NOT_METRICS.has(path) && !SHOWN_ELSEWHERE.test(path);
}

const COMPONENT_ORDER = ['total', 'event', 'level', 'heal', 'badge', 'explore', 'dead', 'stuck'];

/** The `rewards.*` paths among these, total first, then the usual RL component order, then by name. */
export function rewardColumnsInOrder(paths: Iterable<string>): string[] {
  const rank = (c: string): number => {
    const i = COMPONENT_ORDER.indexOf(c.replace(/^rewards\.(components\.)?/, ''));
    return i < 0 ? COMPONENT_ORDER.length : i;
  };
  return [...paths]
    .filter((c) => c.startsWith('rewards.'))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
