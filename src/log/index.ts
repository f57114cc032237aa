/**
 * runlens/log — write validator and training events as JSON lines, safely: whole lines only,
 * crash-safe appends, optional batching, fsync policy, size-based rotation with gzip, typed presets
 * with validation, and host metrics. See docs/logging.md for the guarantees.
 */
export { EventLog, MAX_WRITE_BYTES } from './event-log.js';
export { encodeEvent } from './encode-event.js';
export type { BufferOptions, EventLogOptions, EventLogStats } from './event-log.js';
export type { FsyncPolicy } from './durability.js';
export { listRotatedSet, rotatedPath } from './rotation.js';
export type { RotateOptions } from './rotation.js';
export { readRotatedSet } from './read-rotated.js';
export type { ReadRotatedOptions, RotatedLine } from './read-rotated.js';
export {
  aBoolean,
  anInteger,
  aNumber,
  aString,
  defineSchema,
  either,
  EventValidationError,
  listOf,
  nothing,
  oneOf,
} from './schema.js';
export type { EventSchema, FieldSpec } from './schema.js';
export { fileTaoEvents, openValidatorsEvents } from './presets.js';
export type { FileTaoEvent, OpenValidatorsEvent, OpenValidatorsEventName } from './presets.js';
export { startHostMetrics } from './host-metrics.js';
export type { HostMetricsOptions, SystemEvent } from './host-metrics.js';
export { findOnPath, parseNvidiaSmiCsv, queryGpus } from './nvidia-smi.js';
export type { GpuMetrics } from './nvidia-smi.js';
export { stringifyJsonRecord, parseJsonRecord } from '../formats/json-record.js';
