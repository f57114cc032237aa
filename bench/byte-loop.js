// The floor under any JavaScript scanner that looks at every byte: read the files (page cache) in
// 4 MB chunks, and read them while a loop looks at each byte once and counts the spaces (the least
// work per byte a scanner can do). Whole files go to one or two worker threads, as the scan does.
//   node bench/byte-loop.js [dir or file ...]   (default: the RL 2.7 GB workload)
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const CHUNK = 4 * 1024 * 1024;

function scanFiles(files, loop) {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let spaces = 0;
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, CHUNK, null);
        if (n === 0) break;
        if (loop) for (let i = 0; i < n; i++) if (buffer[i] === 0x20) spaces++;
      }
    } finally {
      closeSync(fd);
    }
  }
  return spaces;
}

if (!isMainThread) {
  parentPort.postMessage(scanFiles(workerData.files, workerData.loop));
} else {
  const listFiles = (path) =>
    statSync(path).isDirectory()
      ? readdirSync(path, { recursive: true })
          .map((name) => join(path, name))
          .filter((p) => statSync(p).isFile() && p.endsWith('.json') && !basename(p).startsWith('.'))
          .sort()
      : [path];
  const args = process.argv.slice(2);
  const files = (args.length ? args : ['bench/data/rl-2.7GB']).flatMap(listFiles);
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const inWorkers = (threads, loop) =>
    Promise.all(
      Array.from(
        { length: threads },
        (_, t) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { files: files.filter((_, i) => i % threads === t), loop },
            });
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
    );
  console.log(`${files.length} files, ${(bytes / 1e9).toFixed(2)} GB`);
  for (const threads of [1, 2])
    for (const loop of [false, true]) {
      const started = performance.now();
      await inWorkers(threads, loop);
      const seconds = (performance.now() - started) / 1000;
      const perThread = (seconds * threads * 1e9) / bytes;
      console.log(
        `${threads} thread${threads > 1 ? 's' : ' '} ${loop ? 'read + loop over every byte' : 'read only                  '}` +
          ` ${seconds.toFixed(2).padStart(6)} s ${((bytes / 1e6 / seconds) | 0).toString().padStart(5)} MB/s` +
          ` ${perThread.toFixed(2)} ns per byte per thread`,
      );
    }
}
