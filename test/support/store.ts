// A fresh database for every test of a file: opened before each, closed and deleted after.
// Call at the top of a test file; read `.store` inside the tests.
import { afterEach, beforeEach } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/db.ts";
import { tempDir } from "./app.ts";

export function storePerTest(prefix = "wahook-store-"): { readonly store: Store; readonly dir: string } {
  const current = { store: null as unknown as Store, dir: "" };
  beforeEach(() => {
    current.dir = tempDir(prefix);
    current.store = openStore(join(current.dir, "wahook.db"));
  });
  afterEach(() => {
    current.store.close();
    rmSync(current.dir, { recursive: true, force: true });
  });
  return current;
}
