/**
 * What the repositories (src/store/repos/) need from an adapter: statements in the SQL both
 * dialects accept, with `?` placeholders; the table codecs of its dialect; the batched writer of
 * the hot-path tables. Each adapter (sqlite.ts, postgres.ts) implements it and keeps only what is
 * really dialect: connections, retries, migrations, batching, transactions.
 */
import { clampTs } from "./bounds";
import type { Row, TableCodec } from "./codec";
import type { TableName } from "./tables";

export type { Row };

/** Tables written through the adapter's batched, buffered writer. */
export type BatchTable = "market_bars" | "audit_events" | "trades";

export interface Db {
  readonly kind: "sqlite" | "postgres";
  codec<T = Row>(t: TableName): TableCodec<T>;
  /** Rows of one statement; `op` names it in errors. */
  all(op: string, sql: string, params?: readonly unknown[]): Promise<Row[]> | Row[];
  /** Run one statement; the number of rows it changed. */
  run(op: string, sql: string, params?: readonly unknown[]): Promise<number> | number;
  /**
   * Queue rows (objects with the row type's fields; `common` holds fields they all share) for the
   * batched writer; a promise only under back-pressure.
   */
  append(table: BatchTable, rows: readonly object[], common?: Row): Promise<void> | void;
  /**
   * The write-ahead insert of one trade row (an object with TradeRow's fields), in one commit with
   * at least its chain's buffered rows and every buffered trade row (TradeRepository.insertTrade);
   * the inserted row, or null when its idempotency key already exists.
   */
  writeAhead(trade: object): Promise<Row | null> | Row | null;
  /** Make buffered rows readable: every one, or with "trades" only when trade rows are waiting. */
  settle(only?: "trades"): Promise<void> | void;
  /**
   * Run statements in one transaction: all of them are committed or none. A statement with
   * `mustChange` that changes no row fails the whole transaction with that text.
   */
  atomic(op: string, statements: readonly Statement[]): Promise<void> | void;
}

/** One statement of `Db.atomic`: an INSERT, UPDATE or DELETE without RETURNING. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
  /** The error when it changes no row (e.g. "trade 7 not found"). */
  mustChange?: string;
}

/** A WHERE clause built from optional filters; each bound is encoded with its column's kind. */
export class Where {
  private parts: string[] = [];
  readonly params: unknown[] = [];
  constructor(private codec: TableCodec<unknown>) {}

  /** column = v, unless v is undefined, null or "". */
  eq(column: string, v: unknown): this {
    if (v === undefined || v === null || v === "") return this;
    this.parts.push(`${column} = ?`);
    this.params.push(this.codec.value(column, v));
    return this;
  }

  /** column op v, unless v is undefined; a time bound is clamped to years 0001..9999 (bounds.ts). */
  cmp(column: string, op: ">=" | "<" | ">" | "<=", v: number | undefined): this {
    if (v === undefined) return this;
    this.parts.push(`${column} ${op} ?`);
    this.params.push(this.codec.value(column, this.codec.kindOf(column) === "time" ? clampTs(v) : v));
    return this;
  }

  /** A fixed condition, when `on`. */
  when(on: boolean | undefined, sql: string): this {
    if (on) this.parts.push(sql);
    return this;
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(" AND ")}` : "";
  }
}

/** `(?, ?, ...), (?, ...)` for a multi-row INSERT of `rows` rows of `width` columns. */
export function valuesList(rows: number, width: number): string {
  const one = `(${new Array(width).fill("?").join(", ")})`;
  return new Array(rows).fill(one).join(", ");
}

/** `a = excluded.a, ...`: an upsert's update of these columns. */
export function excludedSet(columns: readonly string[]): string {
  return columns.map((c) => `${c} = excluded.${c}`).join(", ");
}
