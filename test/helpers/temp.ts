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

/**
 * The real-format samples of every log runlens reads (a copy of the team's shared samples, kept in
 * the repository so a clone anywhere runs the tests).
 */
export const FORMATS = path.resolve(import.meta.dirname, '../fixtures/formats');

/** The region table runlens ships for RL position maps. */
export const MAP_LAYOUT = path.resolve(import.meta.dirname, '../../data/pokemon-red-map_data.json');
