import { parentPort } from 'node:worker_threads';
import type { LogFile } from '../formats/log-file.js';
import { scanTrainingFile, type TrainingScanPlan } from './training-scan.js';
import { scanValidatorTask, type ValidatorScanPlan, type ValidatorTask } from './validator-scan.js';

export type WorkerJob =
  | { kind: 'training'; file: LogFile; fileIndex: number; plan: TrainingScanPlan }
  | { kind: 'validator'; task: ValidatorTask; plan: ValidatorScanPlan };

/** Runs one job in the current thread (what a worker does with each message). */
export function runJob(job: WorkerJob): Promise<unknown> {
  return job.kind === 'training'
    ? scanTrainingFile(job.file, job.fileIndex, job.plan)
    : scanValidatorTask(job.task, job.plan);
}

/** Worker entry: runs the jobs it is sent, one at a time, and posts each result back. */
parentPort?.on('message', (job: WorkerJob) => {
  runJob(job).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (error: unknown) =>
      parentPort?.postMessage({
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        name: (error as Error)?.name,
      }),
  );
});
