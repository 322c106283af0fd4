// Small process-wide values that must survive restarts (the media link signing key, the
// storage probe's last write).
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { kv } from "./schema.ts";

export function kvGet(store: Store, key: string): string | null {
  return store.sqlite.query<Pick<RawRow<typeof kv>, "value">, [string]>("SELECT value FROM kv WHERE key = ?").get(key)?.value ?? null;
}

/** Sets the value unless one exists; returns the stored value (first writer wins). */
export function kvGetOrSet(store: Store, key: string, value: string): string {
  store.sqlite.query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING").run(key, value);
  return kvGet(store, key)!;
}

export function kvSet(store: Store, key: string, value: string): void {
  store.sqlite.query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
}
