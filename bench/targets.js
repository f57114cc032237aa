// The issue's targets ("One engine …"), checked against one run's rows. Seconds are first looks
// (an empty run-index cache) unless a row says "second look" or "after +1 %".

const RSS_LIMIT_BYTES = 1e9;
const RSS_LIMIT_INPUT_BYTES = 10e9;
/** "Flat": at 10× the input, peak RSS grows by at most this factor. */
const FLAT_GROWTH_LIMIT = 1.25;
const RL_RUN_SECONDS = 60;
/** A look after 1 % more events costs at most this share of the first look (plus rendering). */
const SECOND_LOOK_SHARE = 0.1;

/** Per workload: command → { seconds, ratio } targets at the default sizes. */
const COMMAND_TARGETS = {
  filetao: {
    plot: { seconds: 5, ratio: 0.35 },
    report: { seconds: 12 },
    export: { seconds: 12 },
    inspect: { seconds: 3 },
  },
  openvalidators: { plot: { seconds: 5 }, report: { seconds: 12 }, export: { seconds: 12 } },
  rl: {
    plot: { seconds: 7, ratio: 0.6 },
    'visualize-training': { seconds: 7, ratio: 0.6 },
    report: { seconds: 12 },
    export: { seconds: 12 },
  },
};

const verdict = (met) => (met === undefined ? 'NOT MEASURED' : met ? 'MET' : 'MISSED');

/** [{ target, verdict, detail }] for workload results and the optional extra runs. */
export function checkTargets(workloads, flatness, appended, rlLarge) {
  const checks = [];
  for (const workload of workloads) {
    for (const [command, target] of Object.entries(COMMAND_TARGETS[workload.name] ?? {})) {
      const row = workload.rows.find((r) => r.command === command && r.exitCode === 0);
      const parts = [`≤ ${target.seconds} s`, ...(target.ratio ? [`≥ ${target.ratio}× the yardstick`] : [])];
      checks.push({
        target: `${workload.name} ${(workload.bytes / 1e9).toFixed(2)} GB: ${command} first look ${parts.join(', ')}`,
        verdict: verdict(
          row && row.seconds <= target.seconds && (!target.ratio || row.ratio >= target.ratio),
        ),
        detail: row
          ? `${row.seconds.toFixed(1)} s${row.ratio ? `, ${row.ratio.toFixed(2)}×` : ''}`
          : 'not run',
      });
    }
  }

  for (const command of ['plot', 'report', 'analyze']) {
    const after = appended?.rows.find((r) => r.appendedCommand === command && r.share !== undefined);
    checks.push({
      target: `FileTAO ${appended?.size ?? '10GB'} + 1 %: ${command} after the append ≤ ${SECOND_LOOK_SHARE * 100} % of its first look (plus rendering)`,
      verdict: verdict(after && after.exitCode === 0 ? after.share <= SECOND_LOOK_SHARE : undefined),
      detail: after
        ? `${after.seconds.toFixed(1)} s = ${(after.share * 100).toFixed(1)} %`
        : 'run with --appended 10GB',
    });
  }

  // Results before --flatness-workloads have FileTAO's commands only.
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

  const large = rlLarge?.rows.find((r) => r.largeCommand === 'visualize-training');
  checks.push({
    target: `RL ${rlLarge?.size ?? '27GB'}: visualize-training ≤ ${RL_RUN_SECONDS} s, measured`,
    verdict: verdict(large && large.exitCode === 0 ? large.seconds <= RL_RUN_SECONDS : undefined),
    detail: large
      ? `${large.seconds.toFixed(1)} s, peak RSS ${Math.round(large.peakRssBytes / 1e6)} MB`
      : 'run with --rl-large 27GB',
  });
  return checks;
}

export function formatTargets(checks) {
  const width = Math.max(...checks.map((c) => c.verdict.length));
  return checks.map((c) => `  ${c.verdict.padEnd(width)}  ${c.target}: ${c.detail}`).join('\n');
}
