/**
 * Row codecs derived from the table descriptions (tables.ts): how each column kind is written and
 * read on each dialect, and per table the INSERT values, a single column's value (filters, patches)
 * and the row type decoded from a result row. Pure.
 */
import { round6 } from "../core/money";
import { TABLES, type Column, type Kind, type Table, type TableName } from "./tables";

type Conv = (v: any) => unknown;
export type Row = Record<string, any>;

export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /** JS value → SQL parameter. */
  readonly enc: Readonly<Record<Kind, Conv>>;
  /** Result value → JS value. */
  readonly dec: Readonly<Record<Kind, Conv>>;
  /** JS value → an element of a PostgreSQL array literal (column-array batches), and the array's type. */
  readonly arr?: { readonly enc: Readonly<Record<Kind, Conv>>; readonly type: Readonly<Record<Kind, string>> };
}

const nil = (f: Conv): Conv => (v) => (v === null || v === undefined ? null : f(v));
const same = nil((v) => v);
/** ISO text of an epoch-ms time; the last one is kept, since a batch's rows share a bar time (the symbols of one minute, a bar's events). */
let isoT = Number.NaN;
let isoS = "";
const iso = (t: number): string => (t === isoT ? isoS : ((isoS = new Date(t).toISOString()), (isoT = t), isoS));
const msOf = (d: unknown) => (d instanceof Date ? d.getTime() : Date.parse(String(d)));

/** SQLite: ISO-8601 UTC text for times (sortable as text), 0/1 booleans, JSON as text. */
export const SQLITE: Dialect = {
  name: "sqlite",
  enc: {
    serial: same, text: same, time: nil(iso), date: same, money: nil(round6), number: same, int: same,
    bool: (v) => (v ? 1 : 0), json: nil((v) => JSON.stringify(v)),
  },
  dec: {
    serial: same, text: same, time: nil(msOf), date: same, money: nil(round6), number: same, int: same,
    bool: (v) => v === 1, json: nil((v) => (typeof v === "string" ? JSON.parse(v) : v)),
  },
};

/**
 * PostgreSQL through the `postgres` package: Date for timestamptz, NUMERIC and BIGINT read as
 * strings / BigInt and turned into numbers, JSONB written through the package's json parameter.
 */
export function postgresDialect(json: (v: unknown) => unknown): Dialect {
  return {
    name: "postgres",
    enc: {
      serial: same, text: same, time: nil((t: number) => new Date(t)), date: same, money: nil(round6), number: same, int: same,
      bool: (v) => Boolean(v), json: nil(json),
    },
    dec: {
      serial: nil(Number), text: same, time: nil(msOf), date: nil((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d))),
      money: nil((x) => round6(Number(x))), number: nil(Number), int: nil(Number), bool: (v) => v === true, json: same,
    },
    arr: {
      enc: {
        serial: same, text: same, time: nil(iso), date: same, money: nil(round6), number: same, int: same,
        bool: (v) => (v ? "true" : "false"), json: nil((v) => JSON.stringify(v)),
      },
      type: {
        serial: "bigint[]", text: "text[]", time: "timestamptz[]", date: "date[]", money: "numeric[]", number: "numeric[]", int: "bigint[]",
        bool: "boolean[]", json: "jsonb[]",
      },
    },
  };
}

export interface TableCodec<T = Row> {
  readonly table: Table;
  /** The columns an INSERT writes: all but the serial ones, which the database assigns. */
  readonly insertColumns: readonly string[];
  /**
   * One row's INSERT parameters, in insertColumns order, from an object with the row type's fields;
   * a field the row lacks is taken from `common` (what a batch's rows share, e.g. the bars' source).
   */
  values(r: object, common?: Row): unknown[];
  /** The same as {column: parameter} (PostgreSQL's multi-row helper). */
  record(r: object): Row;
  /** One row's elements of column arrays, in insertColumns order (PostgreSQL's unnest batches); `common` as for values. */
  elements(r: object, common?: Row): unknown[];
  /** The array type of each insert column (PostgreSQL's unnest batches). */
  readonly arrayTypes: readonly string[];
  /** One column's parameter (a filter bound, a patched field); a column the table lacks is an error. */
  value(column: string, v: unknown): unknown;
  /** One column's value from a result (an aggregate over the column, e.g. MAX(ts)). */
  read(column: string, v: unknown): unknown;
  /** The row type from a result row of `SELECT *` (or of `columns`, with decoder(columns)). */
  decode(row: Row): T;
  /** A decoder of only these columns. */
  decoder(columns: readonly string[]): (row: Row) => T;
  kindOf(column: string): Kind | undefined;
}

function tableCodec<T>(table: Table, d: Dialect): TableCodec<T> {
  const byName = new Map<string, Column>(table.columns.map((c) => [c.name, c]));
  const ins = table.columns.filter((c) => c.kind !== "serial");
  const insNames = ins.map((c) => c.name);
  const insFields = ins.map((c) => c.field ?? c.name);
  const insEnc = ins.map((c) => d.enc[c.kind]);
  const insArr = ins.map((c) => (d.arr ?? d).enc[c.kind]);
  const n = ins.length;
  const makeDecoder = (cols: readonly Column[]) => {
    const names = cols.map((c) => c.name);
    const fields = cols.map((c) => c.field ?? c.name);
    const decs = cols.map((c) => d.dec[c.kind]);
    const m = cols.length;
    return (row: Row): T => {
      const out: Row = {};
      for (let i = 0; i < m; i++) out[fields[i]!] = decs[i]!(row[names[i]!]);
      return out as T;
    };
  };
  const col = (name: string): Column => {
    const c = byName.get(name);
    if (!c) throw new Error(`${table.name} has no column ${name}`);
    return c;
  };
  const decoders = new Map<string, (row: Row) => T>();
  return {
    table,
    insertColumns: insNames,
    values: rowEncoder(insFields, insEnc),
    record(r) {
      const o = r as Row;
      const out: Row = {};
      for (let i = 0; i < n; i++) out[insNames[i]!] = insEnc[i]!(o[insFields[i]!]);
      return out;
    },
    elements: rowEncoder(insFields, insArr),
    arrayTypes: ins.map((c) => d.arr?.type[c.kind] ?? ""),
    value: (column, v) => d.enc[col(column).kind](v),
    read: (column, v) => d.dec[col(column).kind](v),
    decode: makeDecoder(table.columns.filter((c) => !c.internal)),
    decoder(columns) {
      const k = columns.join(",");
      let f = decoders.get(k);
      if (!f) decoders.set(k, (f = makeDecoder(columns.map(col))));
      return f;
    },
    kindOf: (column) => byName.get(column)?.kind,
  };
}

/**
 * A row's values in column order, each through its column's conversion; a field the row lacks
 * (undefined) is taken from `common`. Written out per table (one property read and one direct call
 * per column, from the table's description) rather than looped over name arrays: on the hot path
 * every bar and audit row goes through one, and a loop's property reads by a varying name cost
 * several times more. Field names are identifiers from tables.ts; anything else takes the loop.
 */
export function rowEncoder(fields: readonly string[], encs: readonly Conv[]): (r: object, common?: Row) => unknown[] {
  const n = fields.length;
  const loop = (r: object, common?: Row): unknown[] => {
    const o = r as Row;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      const v = o[f];
      out[i] = encs[i]!(v === undefined && common ? common[f] : v);
    }
    return out;
  };
  if (!fields.every((f) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(f))) return loop;
  const body = fields.map((f, i) => `e${i}((v = o.${f}) === undefined && c ? c.${f} : v)`).join(",\n    ");
  const make = new Function(...fields.map((_, i) => `e${i}`), `return function encode(o, c) {\n  let v;\n  return [\n    ${body}\n  ];\n};`);
  return make(...encs) as (r: object, common?: Row) => unknown[];
}

/** Every table's codec on one dialect, made on first use. */
export function codecs(d: Dialect): <T = Row>(t: TableName) => TableCodec<T> {
  const made = new Map<TableName, TableCodec<any>>();
  return <T>(t: TableName) => {
    let c = made.get(t);
    if (!c) made.set(t, (c = tableCodec<T>(TABLES[t], d)));
    return c as TableCodec<T>;
  };
}
