const DEF_REFERENCE = /(id="|url\(#|href="#)(p_)?(clip|gradient_)(\d+)/g;

/**
 * Renumbers Vega's process-global clip-path and gradient ids (`clip7`, `gradient_3`, `p_gradient_3`)
 * in order of first appearance, so the same chart gives the same SVG however many charts the
 * process drew before it.
 */
export function stabilizeSvgIds(svg: string): string {
  const renumbered = new Map<string, number>();
  const nextNumber = new Map<string, number>();
  return svg.replace(
    DEF_REFERENCE,
    (_match, context: string, patternPrefix: string | undefined, kind: string, number: string) => {
      const key = kind + number;
      let stable = renumbered.get(key);
      if (stable === undefined) {
        const first = kind === 'clip' ? 1 : 0;
        stable = nextNumber.get(kind) ?? first;
        nextNumber.set(kind, stable + 1);
        renumbered.set(key, stable);
      }
      return `${context}${patternPrefix ?? ''}${kind}${stable}`;
    },
  );
}
