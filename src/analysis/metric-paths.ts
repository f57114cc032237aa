import { X_CANDIDATES } from '../engine/ingest.js';

/** Fields that identify or locate rather than measure, and fields other charts already show. */
const NOT_METRICS = new Set([...X_CANDIDATES, 'file_id', 'rec', 'line', '_runtime']);
const SHOWN_ELSEWHERE = /^(rewards\.|position\.)|(^|\.)(uid|best_uid)$/;

/** Is a numeric per-event field a metric for the metrics chart (not an x candidate, id, or charted elsewhere)? */
export function isMetricPath(path: string): boolean {
  return !NOT_METRICS.has(path) && !SHOWN_ELSEWHERE.test(path);
}
