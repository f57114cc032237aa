import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogFile } from '../formats/log-file.js';
import { UnsupportedLayout } from './scan-file.js';
import { scanTrainingFile, type FileScan, type TrainingScanPlan } from './training-scan.js';

/**
 * Scans files on one worker thread per core (whole files each), results in file order. Runs in
 * this thread when asked to (threads ≤ 1) or when the compiled worker is not there (tests run
 * the TypeScript sources).
 */
export async function scanFilesInParallel(
  files: readonly LogFile[],
  plan: TrainingScanPlan,
  options: { threads?: number; onFileDone?: (done: number) => void } = {},
): Promise<FileScan[]> {
  const workerUrl = new URL('./worker.js', import.meta.url);
  const threads = Math.min(options.threads ?? os.availableParallelism(), files.length);
  const results: FileScan[] = new Array(files.length);
  let done = 0;
  if (threads <= 1 || !fs.existsSync(fileURLToPath(workerUrl))) {
    for (let i = 0; i < files.length; i++) {
      results[i] = await scanTrainingFile(files[i], i, plan);
      options.onFileDone?.(++done);
    }
    return results;
  }
  let next = 0;
  const workers = Array.from({ length: threads }, () => new Worker(workerUrl));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              if (next >= files.length) return resolve();
              const fileIndex = next++;
              worker.postMessage({ file: files[fileIndex], fileIndex, plan });
            };
            worker.on(
              'message',
              (message: { ok: boolean; result?: FileScan; error?: string; name?: string }) => {
                if (!message.ok) {
                  const error =
                    message.name === 'UnsupportedLayout'
                      ? new UnsupportedLayout(message.error)
                      : new Error(message.error);
                  return reject(error);
                }
                results[message.result!.fileIndex] = message.result!;
                options.onFileDone?.(++done);
                send();
              },
            );
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
