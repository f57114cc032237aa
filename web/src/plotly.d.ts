// The subset of plotly.js used here (plotly.js-dist-min ships no types).
declare module 'plotly.js-dist-min' {
  export type Data = Record<string, any>;
  export type Layout = Record<string, any>;
  export type Config = Record<string, any>;
  export interface PlotlyHTMLElement extends HTMLElement {
    on(event: string, handler: (event: any) => void): void;
    removeAllListeners?(event: string): void;
  }
  const Plotly: {
    newPlot(el: HTMLElement, data: Data[], layout?: Layout, config?: Config): Promise<PlotlyHTMLElement>;
    react(el: HTMLElement, data: Data[], layout?: Layout, config?: Config): Promise<PlotlyHTMLElement>;
    purge(el: HTMLElement): void;
    relayout(el: HTMLElement, update: Layout): Promise<PlotlyHTMLElement>;
    Plots: { resize(el: HTMLElement): void };
  };
  export default Plotly;
}
