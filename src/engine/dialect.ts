import { chLit } from './clickhouse-text.js';
import { and, ident, lit, sql, trusted, type Sql } from './sql.js';

/**
 * Where the SQL of one aggregate definition differs between the engines that run it: the run's
 * embedded DuckDB index, or a ClickHouse fleet (18.16 and later). An aggregate module builds its
 * query once, through these functions; the DuckDB spelling is the one the module always had.
 *
 * Names and text literals are shared (`"name"`, `'text'` with doubled quotes read the same in
 * both); a ClickHouse fleet refuses field names and values holding a backslash or a double quote,
 * which ClickHouse would read as escapes.
 */
export type ViewName = 'events' | 'uid_events' | 'uid_indexed' | 'uid_indexed_events' | 'rows' | 'uid_rows';

export interface Dialect {
  readonly name: 'duckdb' | 'clickhouse';
  /** The relation a query reads a view from. */
  table(view: ViewName): Sql;
  /** Conditions every query of a view adds (ClickHouse: the run or runs it is about). */
  scope(): Sql[];
  /** `value` as DOUBLE (NULL stays NULL). */
  double(value: Sql): Sql;
  /** `value` as text (NULL stays NULL). */
  text(value: Sql): Sql;
  /** True for finite numbers, NULL for NULL. */
  isFinite(value: Sql): Sql;
  /** Rows where `condition` holds. */
  countIf(condition: Sql): Sql;
  /** An aggregate over the rows where `condition` holds: min, max, sum, or arg_max(value, key). */
  aggregateIf(fn: 'min' | 'max' | 'sum', value: Sql, condition: Sql): Sql;
  argMaxIf(value: Sql, key: Sql, condition?: Sql): Sql;
  /** True when `condition` holds on every row (NULL when there are none). */
  all(condition: Sql): Sql;
  /** `[q(p0), q(p1), …]` of the values where `condition` holds, interpolated as DuckDB's quantile_cont. */
  quantiles(value: Sql, band: readonly number[], condition?: Sql): Sql;
  /**
   * quantiles() of a sample: the values of the `size` rows with the smallest `key` (a BIGINT) among
   * those where `condition` holds.
   */
  sampledQuantiles(value: Sql, key: Sql, size: number, band: readonly number[], condition: Sql): Sql;
  /** The mean of the finite values, exact up to the rounding at 2^-scale (exact-mean.ts). */
  exactMean(value: Sql, scale: number): Sql;
  /** The sum of the finite values, exact up to the rounding at 2^-scale. */
  exactSum(value: Sql, scale: number): Sql;
  /** The largest finite magnitude. */
  maxAbs(value: Sql): Sql;
  /** `count(*) OVER ()` where the engine has window functions; else undefined. */
  readonly windows: boolean;
  /** Integer division toward zero and the remainder's sign as in C. */
  intDiv(a: Sql, b: Sql): Sql;
  /** NULL of type text, of DOUBLE, of a list of DOUBLE. */
  nullText(): Sql;
  nullDouble(): Sql;
  nullDoubles(): Sql;
  /** A boolean literal (ClickHouse before 21.x has no true/false: 1/0). */
  bool(value: boolean): Sql;
  /** `value` as BIGINT (NULL stays NULL). */
  bigint(value: Sql): Sql;
  /** A text literal of any text (in ClickHouse a backslash escapes inside quotes; not in DuckDB). */
  quote(value: string): Sql;
  /**
   * Whether RE2 `pattern` matches somewhere in `value`, as DuckDB's regexp_matches (`.` does not
   * match a newline); a pattern RE2 refuses is an error of the query.
   */
  matches(value: Sql, pattern: string): Sql;
  /** The join keyword that keeps every matching pair (ClickHouse 18.16 wants ALL spelled out). */
  innerJoin(): Sql;
}

/** What ClickHouse's matches() puts before a pattern (see there). */
export const CLICKHOUSE_PREFIX = '\\b\\B|(?-s)';

/** `x · 2^power` in two exact steps: the scale reaches ±1100 for magnitudes near 1e-308 or 1e308. */
export function timesPowerOfTwo(x: Sql, power: number): Sql {
  const half = Math.trunc(power / 2) || 0;
  return sql`((${x} * pow(2.0, ${lit(power - half)})) * pow(2.0, ${lit(half)}))`;
}

/**
 * DuckDB: the HUGEINT sum of the finite values of `expr` scaled by 2^scale and rounded (NULL when
 * there are none), and their count. Sums of disjoint rows add up exactly (duckdbMeanOfSum).
 */
export function duckdbScaledSum(expr: Sql, scale: number): { sum: Sql; count: Sql } {
  const value = sql`CAST(${expr} AS DOUBLE)`;
  const filter = sql`FILTER (WHERE isfinite(${value}))`;
  // The CASE, not only the FILTER, keeps NaN out of the cast: DuckDB casts before it filters.
  const scaled = sql`CASE WHEN isfinite(${value}) THEN CAST(round(${timesPowerOfTwo(value, scale)}) AS HUGEINT) END`;
  return { sum: sql`sum(${scaled}) ${filter}`, count: sql`count(${value}) ${filter}` };
}

/** DuckDB: the mean of values from their scaled sum and count (duckdbScaledSum). */
export function duckdbMeanOfSum(sum: Sql, count: Sql, scale: number): Sql {
  // Quotient and remainder in integers first: the mean of equal values is that value exactly.
  return timesPowerOfTwo(
    sql`(CAST(${sum} // ${count} AS DOUBLE) + CAST(${sum} % ${count} AS DOUBLE) / ${count})`,
    -scale,
  );
}

export const duckdb: Dialect = {
  name: 'duckdb',
  windows: true,
  table: (view) => ident(view),
  scope: () => [],
  double: (value) => sql`CAST(${value} AS DOUBLE)`,
  text: (value) => sql`CAST(${value} AS VARCHAR)`,
  isFinite: (value) => sql`isfinite(${value})`,
  countIf: (condition) => sql`count(*) FILTER (WHERE ${condition})`,
  aggregateIf: (fn, value, condition) => sql`${trusted(fn)}(${value}) FILTER (WHERE ${condition})`,
  argMaxIf: (value, key, condition) =>
    condition === undefined
      ? sql`arg_max(${value}, ${key})`
      : sql`arg_max(${value}, ${key}) FILTER (WHERE ${condition})`,
  all: (condition) => sql`bool_and(${condition})`,
  quantiles: (value, band, condition) =>
    condition === undefined
      ? sql`quantile_cont(${value}, [${band.map((p) => lit(p))}])`
      : sql`quantile_cont(${value}, [${band.map((p) => lit(p))}]) FILTER (WHERE ${condition})`,
  sampledQuantiles: (value, key, size, band, condition) =>
    sql`list_aggregate(arg_min(${value}, ${key}, ${lit(size)}) FILTER (WHERE ${condition}), 'quantile_cont', [${band.map((p) => lit(p))}])`,
  exactMean(expr, scale) {
    const { sum, count } = duckdbScaledSum(expr, scale);
    return duckdbMeanOfSum(sum, count, scale);
  },
  exactSum(expr, scale) {
    return timesPowerOfTwo(sql`CAST(${duckdbScaledSum(expr, scale).sum} AS DOUBLE)`, -scale);
  },
  maxAbs(expr) {
    const value = sql`CAST(${expr} AS DOUBLE)`;
    return sql`max(abs(${value})) FILTER (WHERE isfinite(${value}))`;
  },
  intDiv: (a, b) => sql`(${a} // ${b})`,
  bool: (value) => lit(value),
  nullText: () => sql`CAST(NULL AS VARCHAR)`,
  nullDouble: () => sql`CAST(NULL AS DOUBLE)`,
  nullDoubles: () => sql`CAST(NULL AS DOUBLE[])`,
  bigint: (value) => sql`CAST(${value} AS BIGINT)`,
  quote: (value) => lit(value),
  matches: (value, pattern) => sql`regexp_matches(${value}, ${lit(pattern)})`,
  innerJoin: () => sql`JOIN`,
};

/**
 * ClickHouse over a fleet's tables (src/fleet/tables.ts): the views are tables of `database`
 * with a `run` column, scoped to `runs`. No FILTER clause (the -If combinators), no window
 * functions, no HUGEINT (Decimal128, 38 digits: the exact sums' 2^93 scale fits), no
 * interpolated exact quantile before 21.x (sorted arrays, interpolated as DuckDB does).
 */
export function clickhouse(database: string, runs: readonly string[]): Dialect {
  const qualified = (view: ViewName): Sql => {
    const table =
      view === 'rows'
        ? 'events'
        : view === 'uid_rows'
          ? 'uid_events'
          : view === 'uid_indexed_events'
            ? 'uid_indexed'
            : view;
    return sql`${ident(database)}.${ident(table)}`;
  };
  const finite = (value: Sql) => sql`isFinite(${value})`;
  // DuckDB's round (half away from zero), exactly: floor and the fraction are exact below 2^52,
  // and above it every double is an integer (fraction 0).
  const round = (v: Sql) =>
    sql`(if(${v} < 0, -1, 1) * (floor(abs(${v})) + (abs(${v}) - floor(abs(${v})) >= 0.5)))`;
  const scaledSum = (expr: Sql, scale: number): { sum: Sql; count: Sql } => {
    const value = sql`toFloat64(${expr})`;
    const scaled = sql`toDecimal128(if(${finite(value)}, ${round(timesPowerOfTwo(value, scale))}, 0), 0)`;
    return { sum: sql`sumIf(${scaled}, ${finite(value)})`, count: sql`countIf(${finite(value)})` };
  };
  return {
    name: 'clickhouse',
    windows: false,
    table: qualified,
    scope: () => [sql`${ident('run')} IN (${runs.map((r) => trusted(chLit(r)))})`],
    double: (value) => sql`toFloat64(${value})`,
    text: (value) => sql`toString(${value})`,
    isFinite: finite,
    // A NULL condition counts as false: over Nullable columns countIf would answer NULL when no
    // row has a non-NULL condition, and NULL does not cast to DOUBLE.
    countIf: (condition) => sql`countIf(ifNull(${condition}, 0))`,
    aggregateIf: (fn, value, condition) => sql`${trusted(fn)}If(${value}, ${condition})`,
    argMaxIf: (value, key, condition) =>
      condition === undefined ? sql`argMax(${value}, ${key})` : sql`argMaxIf(${value}, ${key}, ${condition})`,
    all: (condition) => sql`(min(${condition}) = 1)`,
    quantiles(value, band, condition) {
      const sorted =
        condition === undefined
          ? sql`arraySort(groupArray(${value}))`
          : sql`arraySort(groupArrayIf(${value}, ${condition}))`;
      return interpolated(sorted, band);
    },
    sampledQuantiles(value, key, size, band, condition) {
      // Held before the cut (18.16 has no bounded top-N aggregate): binnedStats first leaves out the
      // rows whose key no sample can reach (sampleLimits), so a bin holds about its sample.
      const smallest = sql`arraySlice(arraySort(groupArrayIf((${key}, ${value}), ${condition})), 1, ${lit(size)})`;
      return interpolated(sql`arraySort(arrayMap(t -> t.2, ${smallest}))`, band);
    },
    exactMean(expr, scale) {
      const { sum, count } = scaledSum(expr, scale);
      const n = sql`greatest(${count}, 1)`;
      const q = sql`(${sum} / ${n})`;
      return sql`if(${count} = 0, NULL, ${timesPowerOfTwo(
        sql`(toFloat64(${q}) + toFloat64(${sum} - ${q} * ${n}) / ${n})`,
        -scale,
      )})`;
    },
    exactSum(expr, scale) {
      const { sum, count } = scaledSum(expr, scale);
      return sql`if(${count} = 0, NULL, ${timesPowerOfTwo(sql`toFloat64(${sum})`, -scale)})`;
    },
    maxAbs(expr) {
      const value = sql`toFloat64(${expr})`;
      return sql`maxIf(abs(${value}), ${finite(value)})`;
    },
    intDiv: (a, b) => sql`intDiv(${a}, ${b})`,
    bool: (value) => trusted(value ? '1' : '0'),
    nullText: () => sql`CAST(NULL AS Nullable(String))`,
    nullDouble: () => sql`CAST(NULL AS Nullable(Float64))`,
    nullDoubles: () => sql`CAST(NULL AS Nullable(Float64))`,
    bigint: (value) => sql`toInt64(${value})`,
    quote: (value) => trusted(chLit(value)),
    // ClickHouse compiles RE2 with `.` matching newlines ((?-s) turns that off), and (18.16 at
    // least) first looks for the pattern's literal text, case-sensitively even under (?i): a first
    // alternative that never matches (\b\B) leaves it none to look for. No group around the
    // pattern, so an unbalanced one fails as in DuckDB.
    matches: (value, pattern) => sql`match(${value}, ${trusted(chLit(`${CLICKHOUSE_PREFIX}${pattern}`))})`,
    innerJoin: () => sql`ALL INNER JOIN`,
  };
}

/**
 * DuckDB's quantile_cont over a sorted ClickHouse array: h = (n − 1)·p, d = h − ⌊h⌋,
 * s[⌊h⌋]·(1 − d) + s[⌈h⌉]·d (DuckDB's arithmetic, checked bit for bit; arrays count from 1).
 */
function interpolated(sorted: Sql, band: readonly number[]): Sql {
  const one = (p: number) => {
    const h = sql`((length(s) - 1) * ${lit(p)})`;
    const d = sql`(${h} - floor(${h}))`;
    return sql`if(length(s) = 0, NULL, s[toUInt64(floor(${h})) + 1] * (1 - ${d}) + s[toUInt64(ceil(${h})) + 1] * ${d})`;
  };
  return sql`arrayMap(s -> [${band.map(one)}], [${sorted}])[1]`;
}

/** `<view> WHERE <scope and conditions>`: a view read under the dialect, filtered. */
export function scoped(dialect: Dialect, view: ViewName, conditions: readonly Sql[]): Sql {
  const all = [...dialect.scope(), ...conditions];
  return all.length ? sql`${dialect.table(view)} WHERE ${and(all)}` : dialect.table(view);
}

/** `FROM <view> WHERE <scope and conditions>`. */
export function fromWhere(dialect: Dialect, view: ViewName, conditions: readonly Sql[]): Sql {
  return sql`FROM ${scoped(dialect, view, conditions)}`;
}
