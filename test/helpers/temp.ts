import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temp directory, removed after the test file's tests. */
export function tempDir(prefix = 'runlens-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const FORMATS = path.join(SHARED, 'formats');
