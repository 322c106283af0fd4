// Row types of statements written in SQL, derived from the Drizzle tables in schema.ts so a
// column is typed once. A raw statement sees what the driver stores, under the column's SQL
// name: JSON columns are text and boolean columns are 0/1; the other columns keep the type
// the schema gives them (enum unions included).
import type { Table } from "drizzle-orm";

type Columns<T extends Table> = T["_"]["columns"];

type Stored<C> = C extends { _: { dataType: "json" | "boolean"; driverParam: infer D; notNull: infer N } }
  ? N extends true
    ? D
    : D | null
  : C extends { _: { data: infer V; notNull: infer N } }
    ? N extends true
      ? V
      : V | null
    : never;

/** A row of `T` as `SELECT *` returns it. */
export type RawRow<T extends Table> = { [K in keyof Columns<T> as Columns<T>[K]["_"]["name"]]: Stored<Columns<T>[K]> };
