// Row types of statements written in SQL come from schema.ts (store/rows.ts), so they are
// typed once; what keeps them true is that the tables the migrations make are the schema's:
// the same columns under the same names, types and nullability. A migration that drifts
// from schema.ts (or the reverse) fails here, table by table.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { getTableColumns, getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { openStore } from "../../src/store/db.ts";
import * as schema from "../../src/store/schema.ts";
import { tempDir } from "../support/app.ts";

const dir = tempDir("wahook-rows-");
const store = openStore(join(dir, "wahook.db"));
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const tables = Object.values(schema as Record<string, unknown>).filter((t): t is SQLiteTable => is(t, SQLiteTable));

test("schema.ts names every table", () => expect(tables.length).toBeGreaterThan(15));

/** Columns by name: a column a later migration added comes last in the table, wherever schema.ts puts it. */
const byName = <T extends { name: string }>(columns: T[]) => columns.sort((a, b) => a.name.localeCompare(b.name));

test.each(tables.map((t) => [getTableName(t), t] as const))("%s: the migrated table has the schema's columns", (name, table) => {
  const fromSchema = byName(Object.values(getTableColumns(table)).map((c) => ({ name: c.name, type: c.getSQLType(), notNull: c.notNull })));
  const migrated = store.sqlite
    .query<{ name: string; type: string; notnull: number; pk: number }, []>(`PRAGMA table_info("${name}")`)
    .all()
    // SQLite reports an INTEGER PRIMARY KEY (the rowid itself) as nullable: it never is.
    .map((c) => ({ name: c.name, type: c.type.toLowerCase(), notNull: c.notnull === 1 || (c.pk > 0 && c.type === "INTEGER") }));
  expect(byName(migrated)).toEqual(fromSchema);
});
