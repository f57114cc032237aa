import { parentPort } from 'node:worker_threads';
import type { LogFile } from '../formats/log-file.js';
import { scanTrainingFile, type TrainingScanPlan } from './training-scan.js';

/** Worker entry: scans the files it is sent, one at a time, and posts each result back. */
parentPort?.on('message', (message: { file: LogFile; fileIndex: number; plan: TrainingScanPlan }) => {
  scanTrainingFile(message.file, message.fileIndex, message.plan).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (error: unknown) =>
      parentPort?.postMessage({
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        name: (error as Error)?.name,
      }),
  );
});
