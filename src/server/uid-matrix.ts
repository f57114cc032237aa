import type { BinSpec } from '../engine/bins.js';
import { movingAverageScores } from '../engine/moving-average-scores.js';
import type { Run } from '../engine/run.js';
import { weightsMatrix } from '../engine/uid-indexed-matrix.js';

export interface UidMatrix {
  uids: number[];
  spec: BinSpec;
  values: Float64Array;
  title: string;
  caption: string;
  colorTitle: string;
}

/** The uid × x matrix behind a heatmap chart, with the caption that says how it was made. */
export async function uidMatrix(
  run: Run,
  kind: 'scores' | 'weights',
  bins: number,
): Promise<UidMatrix | undefined> {
  if (kind === 'scores') {
    const scores = await movingAverageScores(run, { maxBins: bins });
    if (!scores || !scores.uids.length) return undefined;
    const how =
      scores.source === 'logged'
        ? 'as logged'
        : `rebuilt by replaying every event, score = α·reward + (1−α)·score, α = ${scores.alpha}`;
    return {
      ...scores,
      title: 'Moving-averaged scores',
      caption: `${how} · ${scores.events.toLocaleString('en-US')} events · ${scores.uids.length} uids`,
      colorTitle: 'score',
    };
  }
  const weights = await weightsMatrix(run, bins);
  if (!weights) return undefined;
  return {
    ...weights,
    title: `Weights (${weights.kind})`,
    caption: `${weights.updates.toLocaleString('en-US')} weight vectors · ${weights.uids.length} uids · last vector per bin, carried forward`,
    colorTitle: 'weight',
  };
}
