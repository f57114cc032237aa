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
export function checkTargets(workloads, flatness, scaling) {
  const checks = [];
  for (const workload of workloads) {
    const plot = workload.rows.find((row) => row.command === 'plot' && row.exitCode === 0);
    checks.push({
      target: `${workload.name}: whole plot ≥ ${PLOT_RATIO_TARGET}× the yardstick's speed`,
      verdict: verdict(plot && plot.ratio >= PLOT_RATIO_TARGET),
      detail: plot ? `${plot.ratio.toFixed(2)}× (${plot.mbPerSecond.toFixed(0)} MB/s)` : 'plot not run',
    });
  }

  // Results from before --flatness-workloads have FileTAO's commands only.
  const flatWorkloads = flatness?.workloads ?? { filetao: flatness?.commands };
  for (const [workload, commands] of Object.entries(flatWorkloads)) {
    const label = workload === 'filetao' ? 'FileTAO' : workload;
    for (const name of ['inspect', 'plot', 'report', 'export']) {
      const c = commands?.[name];
      const atTenGB = c && c.largeInput >= RSS_LIMIT_INPUT_BYTES * 0.99;
      const inputGrowth = c?.inputGrowth ?? flatness?.inputGrowth;
      checks.push({
        target: `peak RSS ≤ ${RSS_LIMIT_BYTES / 1e9} GB at ${RSS_LIMIT_INPUT_BYTES / 1e9} GB input (${name}, ${label})`,
        verdict: verdict(atTenGB ? c.large <= RSS_LIMIT_BYTES : undefined),
        detail: c
          ? `${Math.round(c.large / 1e6)} MB at ${(c.largeInput / 1e9).toFixed(1)} GB`
          : 'run with --flatness',
      });
      checks.push({
        target: `peak RSS flat in input size (${name}, ${label}: ≤ ${FLAT_GROWTH_LIMIT}× for 10× input)`,
        verdict: verdict(c ? c.growth <= FLAT_GROWTH_LIMIT : undefined),
        detail: c
          ? `${Math.round(c.small / 1e6)} MB → ${Math.round(c.large / 1e6)} MB: ${c.growth.toFixed(2)}× for ${inputGrowth.toFixed(1)}× input`
          : 'run with --flatness',
      });
    }
  }

  const rl = workloads.find((workload) => workload.name === 'rl');
  for (const command of ['visualize-training', 'plot']) {
    const row = rl?.rows.find((candidate) => candidate.command === command && candidate.exitCode === 0);
    const small = scaling?.rows.find((r) => r.scalingCommand === command && r.exitCode === 0);
    const estimate = row && extrapolate(row, small);
    checks.push({
      target: `RL ${command} extrapolated to a ${RL_RUN_BYTES / 1e9} GB run ≤ ${RL_RUN_SECONDS} s`,
      verdict: verdict(estimate ? estimate.seconds <= RL_RUN_SECONDS : undefined),
      detail: estimate ? estimate.detail : 'not run',
    });
  }
  return checks;
}

/**
 * Seconds for a 27 GB run. With a second, smaller run of the same command: the large run plus the
 * extra bytes at the marginal rate between the two (fixed costs such as starting and rendering are
 * not multiplied). Without one: proportional to the input (which multiplies fixed costs too).
 */
function extrapolate(row, small) {
  const proportional = (row.seconds * RL_RUN_BYTES) / row.inputBytes;
  const at = `${row.seconds.toFixed(1)} s for ${(row.inputBytes / 1e9).toFixed(2)} GB`;
  if (!small || !(row.seconds > small.seconds) || !(row.inputBytes > small.inputBytes))
    return { seconds: proportional, detail: `${at} → ${proportional.toFixed(0)} s (proportional)` };
  const perByte = (row.seconds - small.seconds) / (row.inputBytes - small.inputBytes);
  const seconds = row.seconds + perByte * (RL_RUN_BYTES - row.inputBytes);
  const fixed = row.seconds - perByte * row.inputBytes;
  return {
    seconds,
    detail:
      `${at} and ${small.seconds.toFixed(1)} s for ${(small.inputBytes / 1e9).toFixed(2)} GB: ` +
      `marginal rate ${(1e-6 / perByte).toFixed(0)} MB/s, ${fixed.toFixed(1)} s fixed → ${seconds.toFixed(0)} s ` +
      `(proportional: ${proportional.toFixed(0)} s)`,
  };
}

export function formatTargets(checks) {
  return checks.map((check) => `- ${check.verdict}: ${check.target} — ${check.detail}`).join('\n');
}
