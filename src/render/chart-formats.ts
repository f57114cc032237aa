/** The files a chart can be written as (kept apart from the renderers: cheap to load). */
export const CHART_FORMATS = ['png', 'svg', 'pdf'] as const;
export type ChartFormat = (typeof CHART_FORMATS)[number];
