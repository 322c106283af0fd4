// DESIGN.md: store/ owns every SQL statement and every transaction, and nothing outside it
// may know which engine runs, so a PostgreSQL dialect of the schema would replace store/
// internals only. This parses every source file outside src/store/ and fails on what would
// break that; each rule is checked on the syntax tree, so a regular expression's `.exec`,
// a Map's `.get` or the words "select a chat" in a message are not mistaken for SQL.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const SRC = join(import.meta.dir, "../src");

/** Statements as SQL begins them, in capitals as this code base writes SQL. */
const SQL =
  /^\s*(SELECT\b[\s\S]*\bFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|PRAGMA\s+\w|VACUUM\b|(CREATE|DROP)\s+(UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\b|ALTER\s+TABLE\b|WITH\s+\w+\s+AS\s*\(|(BEGIN|COMMIT|ROLLBACK)(\s+\w+)?\s*;?\s*$)/;

/** The engine and its query builder. */
const ENGINE_MODULE = /^(bun:sqlite|drizzle-orm)(\/|$)/;

/** The store handle's engine parts (Store.sqlite, Store.db, drizzle's $client). */
const ENGINE_HANDLES = new Set(["sqlite", "db", "$client"]);

/** Calls that compile a statement (bun:sqlite's query and prepare). */
const STATEMENT_CALLS = new Set(["query", "prepare"]);

interface Rule {
  name: string;
  finds(node: ts.Node): boolean;
}

const calledMethod = (node: ts.Node): string | null =>
  ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : null;

const textOf = (node: ts.Node): string | null => {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => ` ? ${s.literal.text}`).join("");
  return null;
};

const moduleOf = (node: ts.Node): string | null => {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) return node.moduleSpecifier.text;
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) return node.arguments[0].text;
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) return node.argument.literal.text;
  return null;
};

const RULES: Rule[] = [
  { name: "SQL text", finds: (node) => SQL.test(textOf(node) ?? "") },
  { name: "a transaction opened", finds: (node) => calledMethod(node) === "transaction" },
  { name: "a statement compiled", finds: (node) => STATEMENT_CALLS.has(calledMethod(node) ?? "") },
  { name: "the engine or its query builder imported", finds: (node) => ENGINE_MODULE.test(moduleOf(node) ?? "") },
  {
    name: "the store's engine handle used",
    finds: (node) =>
      (ts.isPropertyAccessExpression(node) && ENGINE_HANDLES.has(node.name.text)) ||
      (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent) && ENGINE_HANDLES.has((node.propertyName ?? node.name).getText())),
  },
];

/** `rule: line: code` for every node a rule finds. */
function offences(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    for (const rule of RULES) {
      if (!rule.finds(node)) continue;
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      out.push(`${rule.name}: ${file}:${line}: ${node.getText(source).split("\n")[0]!.slice(0, 100)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

describe("store/ owns SQL, transactions and the engine", () => {
  test("no source file outside src/store/ holds SQL, opens a transaction or touches the engine", () => {
    const outside = sourceFiles(SRC).filter((file) => !relative(SRC, file).startsWith("store/"));
    expect(outside.length).toBeGreaterThan(50);
    expect(outside.flatMap((file) => offences(relative(SRC, file), readFileSync(file, "utf8")))).toEqual([]);
  });

  // The rules themselves: each finds what it is for, and none finds the everyday code
  // around it.
  test.each([
    ['store.sqlite.query("SELECT 1").get();', ["a statement compiled", "the store's engine handle used"]],
    ['const rows = run("SELECT id FROM outbox WHERE status = ?");', ["SQL text"]],
    ["const q = `UPDATE webhooks SET paused_until = ${until} WHERE id = ?`;", ["SQL text"]],
    ['exec("DELETE FROM media WHERE id = ?");', ["SQL text"]],
    ['exec("PRAGMA wal_checkpoint(TRUNCATE)");', ["SQL text"]],
    ['exec("BEGIN IMMEDIATE");', ["SQL text"]],
    ["handle.transaction(() => write())();", ["a transaction opened"]],
    ["const { db, sqlite } = store;", ["the store's engine handle used", "the store's engine handle used"]],
    ["insertAccount(store.db, values);", ["the store's engine handle used"]],
    ['import { Database } from "bun:sqlite";', ["the engine or its query builder imported"]],
    ['import { eq } from "drizzle-orm";', ["the engine or its query builder imported"]],
    ['import { sqliteTable } from "drizzle-orm/sqlite-core";', ["the engine or its query builder imported"]],
    ['type D = import("bun:sqlite").Database;', ["the engine or its query builder imported"]],
    ["const m = /^(\\d+)@c\\.us$/.exec(chatId);", []],
    ["const hit = cache.get(key); this.run(job);", []],
    ['const file = join(dir, "wahook.db"); const fsync = config.dbSync;', []],
    ['throw new Error("Select a chat from the list, then update its name");', []],
    ["const { query, params } = context;", []],
  ] as [string, string[]][])("%s", (code, found) => {
    expect(offences("example.ts", code).map((o) => o.slice(0, o.indexOf(":")))).toEqual(found);
  });
});
