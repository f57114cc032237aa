import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogFile } from '../formats/log-file.js';
import { UnsupportedLayout } from './scan-file.js';
import type { FileScan, TrainingScanPlan } from './training-scan.js';
import { runJob, type WorkerJob } from './worker.js';

/**
 * Runs jobs on one worker thread per core and hands each result to `onResult` in job order (a
 * result that arrives early waits for its predecessors, so at most about one per worker is held).
 * A job may still be in the making (a promise): a worker waits for it when its turn comes, and
 * one that fails rejects the run then (and is not left unhandled if the run ends before).
 * Runs in this thread when asked to (threads ≤ 1) or when the compiled worker is not there (tests
 * run the TypeScript sources).
 */
export async function runJobsInOrder<R>(
  jobs: readonly (WorkerJob | Promise<WorkerJob>)[],
  onResult: (result: R, index: number) => void,
  options: { threads?: number } = {},
): Promise<void> {
  for (const job of jobs) if (job instanceof Promise) job.catch(() => {});
  const workerUrl = new URL('./worker.js', import.meta.url);
  const threads = Math.min(options.threads ?? os.availableParallelism(), jobs.length);
  if (threads <= 1 || !fs.existsSync(fileURLToPath(workerUrl))) {
    for (let i = 0; i < jobs.length; i++) onResult((await runJob(await jobs[i])) as R, i);
    return;
  }
  const waiting = new Map<number, R>();
  let delivered = 0;
  let next = 0;
  const workers = Array.from({ length: threads }, () => new Worker(workerUrl));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const send = (): void => {
              if (next >= jobs.length) return resolve();
              current = next++;
              Promise.resolve(jobs[current]).then((job) => worker.postMessage(job), reject);
            };
            worker.on('message', (message: { ok: boolean; result?: R; error?: string; name?: string }) => {
              if (!message.ok) {
                const error =
                  message.name === 'UnsupportedLayout'
                    ? new UnsupportedLayout(message.error)
                    : new Error(message.error);
                return reject(error);
              }
              waiting.set(current, message.result!);
              try {
                while (waiting.has(delivered)) {
                  const result = waiting.get(delivered)!;
                  waiting.delete(delivered);
                  onResult(result, delivered++);
                }
              } catch (error) {
                return reject(error as Error);
              }
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Scans RL files (whole files each) on the worker pool; results in file order. */
export async function scanFilesInParallel(
  files: readonly LogFile[],
  plan: TrainingScanPlan,
  options: { threads?: number; onFileDone?: (done: number) => void } = {},
): Promise<FileScan[]> {
  const results: FileScan[] = [];
  await runJobsInOrder<FileScan>(
    files.map((file, fileIndex) => ({ kind: 'training', file, fileIndex, plan })),
    (result) => {
      results.push(result);
      options.onFileDone?.(results.length);
    },
    options,
  );
  return results;
}
