import type { SqlStatement } from './sql';

/** For each column of a table, how a row object gives its value. */
export type ColumnValues<Row> = { readonly [column: string]: (row: Row) => unknown };

/**
 * A table written by hand-written SQL, defined once: its name and its columns, each with the
 * row field it stores. The INSERT column list, the values in that order and the SELECT lists
 * all come from this one definition.
 */
export class SqlTable<Row> {
  readonly columns: readonly string[];
  private readonly getters: readonly ((row: Row) => unknown)[];
  /** `INSERT INTO t ("a", "b") VALUES ` and `(?, ?)`: the parts of every INSERT. */
  private readonly insertInto: string;
  private readonly tuple: string;
  /**
   * The one-row INSERT, built once: SQLite runs it for every row of a batch, and the runner
   * finds its prepared statement by this text.
   */
  private readonly insertOne: string;

  constructor(
    readonly name: string,
    columns: ColumnValues<Row>,
  ) {
    this.columns = Object.keys(columns);
    this.getters = Object.values(columns);
    this.insertInto = `INSERT INTO ${name} (${this.list()}) VALUES `;
    this.tuple = `(${this.columns.map(() => '?').join(', ')})`;
    this.insertOne = this.insertInto + this.tuple;
  }

  /**
   * The columns, quoted, comma-separated: for an INSERT or a SELECT. `except` leaves some out
   * (a listing that needs no ciphertext, say); naming a column the table lacks is an error.
   */
  list(except: readonly string[] = []): string {
    const unknown = except.filter((c) => !this.columns.includes(c));
    if (unknown.length) throw new Error(`${this.name} has no column ${unknown.join(', ')}`);
    return this.columns
      .filter((c) => !except.includes(c))
      .map((c) => `"${c}"`)
      .join(', ');
  }

  /** A row's values in {@link columns} order. */
  values(row: Row): unknown[] {
    return this.getters.map((get) => get(row));
  }

  /** One INSERT of all `rows` (`suffix`: an `ON CONFLICT …` clause, say). */
  insert(rows: readonly Row[], suffix = ''): SqlStatement {
    if (!rows.length) throw new Error(`an INSERT into ${this.name} needs at least one row`);
    const params = new Array<unknown>(rows.length * this.getters.length);
    let i = 0;
    for (const row of rows) for (const get of this.getters) params[i++] = get(row);
    const text =
      rows.length === 1 ? this.insertOne : this.insertInto + Array(rows.length).fill(this.tuple).join(', ');
    return { text: suffix ? `${text} ${suffix}` : text, params };
  }
}
