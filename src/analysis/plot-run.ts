import type { QueryableRun } from '../engine/queryable.js';
import type { Smoothing } from '../charts/smoothing.js';
import { metricsChart } from './plot-metrics.js';
import { positionChart, rewardChart } from './plot-training.js';
import { validatorCharts, type NamedChart, type ValidatorChartOptions } from './plot-validator.js';

export interface RunChartOptions extends ValidatorChartOptions {
  smoothing?: Partial<Smoothing>;
  mapLayout?: string;
}

/** Every chart the run's data supports, named for file names. */
export async function runCharts(run: QueryableRun, options: RunChartOptions = {}): Promise<NamedChart[]> {
  const charts: NamedChart[] = [];
  if (run.x.column !== 'step') {
    const rewards = await rewardChart(run, { smoothing: options.smoothing });
    if (rewards)
      charts.push({
        name: 'rewards',
        description: `reward components over ${run.x.label}`,
        spec: rewards.spec,
      });
  }
  const positions = await positionChart(run, { mapLayout: options.mapLayout });
  if (positions)
    charts.push({ name: 'heatmap', description: 'position visits per tile', spec: positions.spec });
  const validator =
    run.storedColumns('uid_rows').size > 0 || run.profile === 'filetao' || run.profile === 'openvalidators';
  if (validator) charts.push(...(await validatorCharts(run, options)));
  // Validator charts already show step length on its own.
  const metrics = await metricsChart(run, options.smoothing, validator ? ['step_length'] : []);
  if (metrics) charts.push(metrics);
  return charts;
}
