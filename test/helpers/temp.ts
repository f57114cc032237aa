import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Directories made by tempDir in this test file. One hook, registered when the file's tests are
 * collected, removes them all: an `afterAll` registered inside a running test never runs, so
 * registering one per directory (as before) left every directory made in a test body behind.
 */
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test file's tests. */
export function tempDir(prefix = 'runlens-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const FORMATS = path.join(SHARED, 'formats');
