import fs from 'node:fs';
import path from 'node:path';
import { parseJsonRecord } from '../formats/json-record.js';
import { profileOfEvent, unwrapLoguru } from '../formats/profile.js';
import { isPlainObject } from '../formats/record.js';
import type { Profile } from './api-types.js';

const PEEK_BYTES = 64 * 1024;

/**
 * A quick guess of what wrote a run, from the first record of its first plain file, for the runs
 * list before the run is opened (opening it gives the real profile, from every record).
 */
export function guessProfile(files: readonly string[]): Profile {
  if (files.some((f) => /^stats_(final_)?\d+\.json/i.test(path.basename(f)))) return 'rl';
  const plain = files.find((f) => !f.toLowerCase().endsWith('.gz'));
  if (!plain) return 'generic';
  const text = peek(plain).replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (start.startsWith('[')) return /"(total_steps|position)"/.test(text) ? 'rl' : 'generic';
  if (!start.startsWith('{')) {
    const header = start.split('\n', 1)[0];
    return /(^|,)"?(completions|gating_loss)"?(,|$)/.test(header) ? 'openvalidators' : 'generic';
  }
  const newline = start.indexOf('\n');
  if (newline < 0) return 'generic';
  try {
    const value = parseJsonRecord(start.slice(0, newline));
    if (!isPlainObject(value)) return 'generic';
    return profileOfEvent(unwrapLoguru(value) ?? value);
  } catch {
    return 'generic';
  }
}

function peek(file: string): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(PEEK_BYTES);
    const n = fs.readSync(fd, buffer, 0, PEEK_BYTES, 0);
    return buffer.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
