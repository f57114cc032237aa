// Links this package's own CLI into node_modules/.bin (run by `npm install` through "prepare"), so
// `npx runlens …` in a clone finds it there and starts at once. Without the link npx treats the
// project as a package to fetch: it copied the clone into its cache and built it again (~30 s,
// 1.2 GB) on the first call.
import { chmodSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'bin', 'runlens.js');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'runlens');
const wanted = relative(binDir, target);

mkdirSync(binDir, { recursive: true });
let current;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : 'not a link';
} catch {
  current = undefined;
}
if (current !== wanted) {
  if (current !== undefined) rmSync(link, { force: true });
  symlinkSync(wanted, link);
}
chmodSync(target, 0o755);
