import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectSvgSnapshot } from './helpers/snapshot.js';

describe('expectSvgSnapshot', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runlens-snap-'));
    dirs.push(dir);
    return dir;
  };
  const update = process.env.UPDATE_SNAPSHOTS;
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    if (update === undefined) delete process.env.UPDATE_SNAPSHOTS;
    else process.env.UPDATE_SNAPSHOTS = update;
  });

  it('fails when the approved file is missing, approving nothing', async () => {
    delete process.env.UPDATE_SNAPSHOTS;
    const dir = tempDir();
    await expect(expectSvgSnapshot('chart', '<svg/>', dir)).rejects.toThrow(/no approved file/);
    expect(existsSync(path.join(dir, 'chart.svg'))).toBe(false);
    expect(readFileSync(path.join(dir, 'chart-changed.svg'), 'utf8')).toBe('<svg/>');
  });

  it('approves only with UPDATE_SNAPSHOTS=1, then passes on the same SVG and fails on another', async () => {
    const dir = tempDir();
    process.env.UPDATE_SNAPSHOTS = '1';
    await expectSvgSnapshot('chart', '<svg>a</svg>', dir);
    expect(readFileSync(path.join(dir, 'chart.svg'), 'utf8')).toBe('<svg>a</svg>');
    delete process.env.UPDATE_SNAPSHOTS;
    writeFileSync(path.join(dir, 'chart-changed.svg'), 'stale');
    await expectSvgSnapshot('chart', '<svg>a</svg>', dir);
    expect(existsSync(path.join(dir, 'chart-changed.svg'))).toBe(false);
    await expect(expectSvgSnapshot('chart', '<svg>b</svg>', dir)).rejects.toThrow(/changed/);
    expect(readFileSync(path.join(dir, 'chart.svg'), 'utf8')).toBe('<svg>a</svg>');
  });
});
