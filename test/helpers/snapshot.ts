import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const SNAPSHOT_DIR = fileURLToPath(new URL('../snapshots/', import.meta.url));

/**
 * Compares `svg` with the approved `test/snapshots/<name>.svg`.
 * - missing approved file: writes it (first run) and passes;
 * - `UPDATE_SNAPSHOTS=1`: rewrites it and passes;
 * - mismatch: writes `<name>-changed.svg` beside it (to diff or view) and fails.
 * A matching run removes a stale `-changed` file.
 */
export async function expectSvgSnapshot(name: string, svg: string): Promise<void> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`snapshot name must be a plain file name, got "${name}"`);
  const approvedPath = `${SNAPSHOT_DIR}${name}.svg`;
  const changedPath = `${SNAPSHOT_DIR}${name}-changed.svg`;
  await mkdir(SNAPSHOT_DIR, { recursive: true });

  if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(approvedPath)) {
    await writeFile(approvedPath, svg);
    await rm(changedPath, { force: true });
    return;
  }
  const approved = await readFile(approvedPath, 'utf8');
  if (approved === svg) {
    await rm(changedPath, { force: true });
    return;
  }
  await writeFile(changedPath, svg);
  expect.fail(
    `SVG snapshot "${name}" changed: compare test/snapshots/${name}.svg with ${name}-changed.svg; ` +
      'if the change is intended, rerun with UPDATE_SNAPSHOTS=1.',
  );
}
