import fs from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');
const WEB = path.join(REPO, 'web');

/** Builds web/dist when it is missing or older than any front-end source (npm test builds it first). */
export async function ensureFrontEnd(): Promise<void> {
  const built = path.join(WEB, 'dist', 'index.html');
  const fromServer = ['server/api-types.ts', 'server/fleet-api-types.ts', 'charts/smoothing.ts'];
  const sources = [
    path.join(WEB, 'index.html'),
    path.join(WEB, 'vite.config.ts'),
    path.join(REPO, 'src', 'format-bytes.ts'),
    path.join(REPO, 'src', 'charts', 'axis.ts'),
    ...fromServer.map((file) => path.join(REPO, 'src', file)),
    ...fs
      .readdirSync(path.join(WEB, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name)),
  ];
  const builtAt = fs.statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (sources.every((s) => fs.statSync(s).mtimeMs <= builtAt)) return;
  const { build } = await import('vite');
  await build({ root: WEB, logLevel: 'warn' });
}
