import { stringifyJsonRecord } from '../formats/json-record.js';

/** One event as its line: JSON (NaN/Infinity as bare tokens) and "\n". */
export function encodeEvent(event: object): Buffer {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new TypeError(
      `an event must be an object, got ${Array.isArray(event) ? 'an array' : String(event)}`,
    );
  }
  return Buffer.from(`${stringifyJsonRecord(event)}\n`);
}

export function isSystemEvent(event: object): boolean {
  return (event as { event?: unknown }).event === 'system';
}
