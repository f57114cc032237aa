/**
 * A quantitative axis labelled with SI prefixes (100k, 1.5M). Vega gives every tick the prefix of
 * the largest one, so zero would read "0M": it is written "0".
 */
export const SI_AXIS = { format: '~s', labelExpr: "datum.value === 0 ? '0' : datum.label" } as const;
