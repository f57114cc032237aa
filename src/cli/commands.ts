import type { Command } from 'commander';
import { registerInspect } from './inspect.js';
import { registerAnalyze } from './analyze.js';
import { registerExport } from './export.js';
import { registerSimulate } from './simulate.js';
import { registerVisualizeTraining } from './visualize-training.js';
import { registerPlot } from './plot.js';
import { registerPlotEvents } from './plot-events.js';
import { registerTail } from './tail.js';
import { registerServe } from './serve.js';
import { registerReport } from './report.js';

/** Every CLI command: a function that adds itself to the program. One file per command. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerInspect,
  registerAnalyze,
  registerExport,
  registerSimulate,
  registerTail,
  registerServe,
  registerVisualizeTraining,
  registerPlot,
  registerPlotEvents,
  registerReport,
];
