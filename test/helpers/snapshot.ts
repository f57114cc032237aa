import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const SNAPSHOT_DIR = fileURLToPath(new URL('../snapshots/', import.meta.url));

/**
 * Compares `svg` with the approved `test/snapshots/<name>.svg`.
 * - `UPDATE_SNAPSHOTS=1`: writes (approves) it and passes — the only way a snapshot is approved;
 * - missing approved file: writes `<name>-changed.svg` (the candidate, to view) and fails, so a
 *   deleted snapshot is noticed, in CI as anywhere;
 * - mismatch: writes `<name>-changed.svg` beside it (to diff or view) and fails.
 * A matching run removes a stale `-changed` file.
 */
export async function expectSvgSnapshot(name: string, svg: string, dir = SNAPSHOT_DIR): Promise<void> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`snapshot name must be a plain file name, got "${name}"`);
  const approvedPath = path.join(dir, `${name}.svg`);
  const changedPath = path.join(dir, `${name}-changed.svg`);
  await mkdir(dir, { recursive: true });

  if (process.env.UPDATE_SNAPSHOTS === '1') {
    await writeFile(approvedPath, svg);
    await rm(changedPath, { force: true });
    return;
  }
  if (!existsSync(approvedPath)) {
    await writeFile(changedPath, svg);
    expect.fail(
      `SVG snapshot "${name}" has no approved file ${approvedPath}: look at ${changedPath} ` +
        'and approve it by rerunning with UPDATE_SNAPSHOTS=1.',
    );
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
