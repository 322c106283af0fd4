// API keys: only a SHA-256 of each key is stored. A key is found by its prefix and then
// compared in constant time, so response timing says nothing about how close a guess was.
import { timingSafeEqual } from "node:crypto";
import { and, asc, count, eq, gt, isNull } from "drizzle-orm";
import type { ApiKeyScope } from "../domain.ts";
import type { Db } from "./db.ts";
import { newId } from "./ids.ts";
import { apiKeys } from "./schema.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

const PREFIX_LENGTH = 12;
/** last_used_at is a hint for admins; writing it on every request would cost a write each. */
const LAST_USED_RESOLUTION_MS = 60_000;

const sha256 = (key: string) => new Bun.CryptoHasher("sha256").update(key).digest("hex");
const prefixOf = (key: string) => key.slice(0, PREFIX_LENGTH);

export function generateKey(): string {
  return `whk_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`;
}

export function insertKey(db: Db, key: string, name: string, scope: ApiKeyScope, source: ApiKeyRow["source"]): ApiKeyRow {
  return db
    .insert(apiKeys)
    .values({ id: newId("key"), name, scope, prefix: prefixOf(key), hash: sha256(key), source, createdAt: Date.now() })
    .returning()
    .get();
}

export function findKey(db: Db, presented: string): ApiKeyRow | null {
  const wanted = Buffer.from(sha256(presented), "hex");
  const candidates = db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, prefixOf(presented)), isNull(apiKeys.revokedAt)))
    .all();
  let found: ApiKeyRow | null = null;
  for (const row of candidates) {
    if (timingSafeEqual(Buffer.from(row.hash, "hex"), wanted)) found = row;
  }
  if (found && (found.lastUsedAt ?? 0) < Date.now() - LAST_USED_RESOLUTION_MS) {
    db.update(apiKeys).set({ lastUsedAt: Date.now() }).where(eq(apiKeys.id, found.id)).run();
  }
  return found;
}

export function listKeys(db: Db, limit: number, after?: string): ApiKeyRow[] {
  return db
    .select()
    .from(apiKeys)
    .where(after ? gt(apiKeys.id, after) : undefined)
    .orderBy(asc(apiKeys.id))
    .limit(limit)
    .all();
}

export function getKey(db: Db, id: string): ApiKeyRow | null {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get() ?? null;
}

export function revokeKey(db: Db, id: string): ApiKeyRow | null {
  return db.update(apiKeys).set({ revokedAt: Date.now() }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning().get() ?? null;
}

export function activeAdminKeys(db: Db): number {
  const row = db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.scope, "admin"), isNull(apiKeys.revokedAt)))
    .get();
  return row?.n ?? 0;
}

/**
 * Makes sure an admin can get in. With WAHOOK_API_KEY set, that key is (re)registered
 * and a previous env key that differs is revoked. Without it, a key is generated on the
 * very first start only; the caller shows it once. Returns the generated key, if any.
 */
export function bootstrapKeys(db: Db, envKey: string | null): string | null {
  return db.transaction(() => {
    const envRows = db.select().from(apiKeys).where(and(eq(apiKeys.source, "env"), isNull(apiKeys.revokedAt))).all();
    if (envKey) {
      const hash = sha256(envKey);
      if (envRows.some((r) => r.hash === hash)) return null;
      for (const r of envRows) db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, r.id)).run();
      insertKey(db, envKey, "WAHOOK_API_KEY", "admin", "env");
      return null;
    }
    const anyKey = db.select({ id: apiKeys.id }).from(apiKeys).limit(1).get();
    if (anyKey) return null;
    const key = generateKey();
    insertKey(db, key, "generated at first start", "admin", "generated");
    return key;
  });
}
