// The targets, checked against one run's rows.

const PLOT_RATIO_TARGET = 0.8;
const RSS_LIMIT_BYTES = 1e9;
const RSS_LIMIT_INPUT_BYTES = 10e9;
/** "Flat": at 10× the input, peak RSS grows by at most this factor. */
const FLAT_GROWTH_LIMIT = 1.25;
const RL_RUN_BYTES = 27e9;
const RL_RUN_SECONDS = 60;

const verdict = (met) => (met === undefined ? 'NOT MEASURED' : met ? 'MET' : 'MISSED');

/** [{ target, verdict, detail }] for workload results and the optional flatness check. */
export function checkTargets(workloads, flatness) {
  const checks = [];
  for (const workload of workloads) {
    const plot = workload.rows.find((row) => row.command === 'plot' && row.exitCode === 0);
    checks.push({
      target: `${workload.name}: whole plot ≥ ${PLOT_RATIO_TARGET}× the yardstick's speed`,
      verdict: verdict(plot && plot.ratio >= PLOT_RATIO_TARGET),
      detail: plot ? `${plot.ratio.toFixed(2)}× (${plot.mbPerSecond.toFixed(0)} MB/s)` : 'plot not run',
    });
  }

  for (const name of ['inspect', 'plot', 'report', 'export']) {
    const c = flatness?.commands?.[name];
    const atTenGB = c && c.largeInput >= RSS_LIMIT_INPUT_BYTES * 0.99;
    checks.push({
      target: `peak RSS ≤ ${RSS_LIMIT_BYTES / 1e9} GB at ${RSS_LIMIT_INPUT_BYTES / 1e9} GB input (${name}, FileTAO)`,
      verdict: verdict(atTenGB ? c.large <= RSS_LIMIT_BYTES : undefined),
      detail: c
        ? `${Math.round(c.large / 1e6)} MB at ${(c.largeInput / 1e9).toFixed(1)} GB`
        : 'run with --flatness',
    });
    checks.push({
      target: `peak RSS flat in input size (${name}: ≤ ${FLAT_GROWTH_LIMIT}× for 10× input)`,
      verdict: verdict(c ? c.growth <= FLAT_GROWTH_LIMIT : undefined),
      detail: c
        ? `${Math.round(c.small / 1e6)} MB → ${Math.round(c.large / 1e6)} MB: ${c.growth.toFixed(2)}× for ${flatness.inputGrowth.toFixed(1)}× input`
        : 'run with --flatness',
    });
  }

  const rl = workloads.find((workload) => workload.name === 'rl');
  for (const command of ['visualize-training', 'plot']) {
    const row = rl?.rows.find((candidate) => candidate.command === command && candidate.exitCode === 0);
    const seconds = row ? (row.seconds * RL_RUN_BYTES) / row.inputBytes : undefined;
    checks.push({
      target: `RL ${command} extrapolated to a ${RL_RUN_BYTES / 1e9} GB run ≤ ${RL_RUN_SECONDS} s`,
      verdict: verdict(row ? seconds <= RL_RUN_SECONDS : undefined),
      detail: row
        ? `${row.seconds.toFixed(1)} s for ${(row.inputBytes / 1e9).toFixed(2)} GB → ${seconds.toFixed(0)} s`
        : 'not run',
    });
  }
  return checks;
}

export function formatTargets(checks) {
  return checks.map((check) => `- ${check.verdict}: ${check.target} — ${check.detail}`).join('\n');
}
