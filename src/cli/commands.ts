import type { Command } from 'commander';

/** Every CLI command: a function that adds itself to the program. One file per command. */
export type RegisterCommand = (program: Command) => void;

/**
 * The commands by name, each loaded only when needed: a command pulls in DuckDB, Vega, fonts or
 * Plotly, and `runlens tail` should not wait for the modules `runlens report` needs.
 */
export const commandLoaders: Record<string, () => Promise<RegisterCommand>> = {
  inspect: async () => (await import('./inspect.js')).registerInspect,
  plot: async () => (await import('./plot.js')).registerPlot,
  'plot-events': async () => (await import('./plot-events.js')).registerPlotEvents,
  'visualize-training': async () => (await import('./visualize-training.js')).registerVisualizeTraining,
  report: async () => (await import('./report.js')).registerReport,
  analyze: async () => (await import('./analyze.js')).registerAnalyze,
  export: async () => (await import('./export.js')).registerExport,
  serve: async () => (await import('./serve.js')).registerServe,
  tail: async () => (await import('./tail.js')).registerTail,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  cache: async () => (await import('./cache.js')).registerCache,
  push: async () => (await import('./push.js')).registerPush,
  runs: async () => (await import('./runs.js')).registerRuns,
};

/** The named command's registration, or all of them (for help, or an unknown name). */
export async function loadCommands(name: string | undefined): Promise<RegisterCommand[]> {
  const loader = name === undefined ? undefined : commandLoaders[name];
  if (loader) return [await loader()];
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}

/** The command named on the command line (the first argument that is not an option), if any. */
export function commandName(argv: string[]): string | undefined {
  const first = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return first !== undefined && first in commandLoaders ? first : undefined;
}
