// API keys: only a SHA-256 of each key is stored. A key is found by its prefix and then
// compared in constant time, so response timing says nothing about how close a guess was.
import { timingSafeEqual } from "node:crypto";
import { and, asc, count, eq, gt, isNull } from "drizzle-orm";
import type { ApiKeyScope } from "../domain.ts";
import type { Store } from "./db.ts";
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

export function insertKey(store: Store, key: string, name: string, scope: ApiKeyScope, source: ApiKeyRow["source"]): ApiKeyRow {
  return store.db
    .insert(apiKeys)
    .values({ id: newId("key"), name, scope, prefix: prefixOf(key), hash: sha256(key), source, createdAt: Date.now() })
    .returning()
    .get();
}

export function findKey(store: Store, presented: string): ApiKeyRow | null {
  const wanted = Buffer.from(sha256(presented), "hex");
  const candidates = store.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, prefixOf(presented)), isNull(apiKeys.revokedAt)))
    .all();
  let found: ApiKeyRow | null = null;
  for (const row of candidates) {
    if (timingSafeEqual(Buffer.from(row.hash, "hex"), wanted)) found = row;
  }
  if (found && (found.lastUsedAt ?? 0) < Date.now() - LAST_USED_RESOLUTION_MS) {
    // Best effort: on a full disk this write fails, and reading must keep working then.
    try {
      store.db.update(apiKeys).set({ lastUsedAt: Date.now() }).where(eq(apiKeys.id, found.id)).run();
    } catch {}
  }
  return found;
}

export function listKeys(store: Store, limit: number, after?: string): ApiKeyRow[] {
  return store.db
    .select()
    .from(apiKeys)
    .where(after ? gt(apiKeys.id, after) : undefined)
    .orderBy(asc(apiKeys.id))
    .limit(limit)
    .all();
}

export function getKey(store: Store, id: string): ApiKeyRow | null {
  return store.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get() ?? null;
}

export function revokeKey(store: Store, id: string): ApiKeyRow | null {
  return store.db.update(apiKeys).set({ revokedAt: Date.now() }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning().get() ?? null;
}

export function activeAdminKeys(store: Store): number {
  const row = store.db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.scope, "admin"), isNull(apiKeys.revokedAt)))
    .get();
  return row?.n ?? 0;
}

/**
 * Revokes a key unless it is the last admin key that works, checked in the same
 * transaction (two revocations at once cannot both pass). Null when it was revoked already.
 */
export function revokeKeepingAnAdmin(store: Store, key: ApiKeyRow): ApiKeyRow | null | "last_admin" {
  return store.db.transaction(() => {
    if (key.scope === "admin" && activeAdminKeys(store) <= 1) return "last_admin" as const;
    return revokeKey(store, key.id);
  });
}

export interface BootstrapResult {
  /** A key made at the very first start without WAHOOK_API_KEY; the caller shows it once. */
  generated: string | null;
  /** WAHOOK_API_KEY matched a key revoked earlier: it works again (the environment decides). */
  reactivatedEnvKey: boolean;
}

/**
 * Makes sure an admin can get in. WAHOOK_API_KEY is the source of truth for the key it
 * names: the API cannot revoke it (the route answers 409), a previous env key that differs
 * is revoked, and a matching key revoked earlier (older versions let the API do that) is
 * made valid again and reported, so it never comes back silently. Without it, a key is
 * generated on the very first start only.
 */
export function bootstrapKeys(store: Store, envKey: string | null): BootstrapResult {
  return store.db.transaction(() => {
    const none: BootstrapResult = { generated: null, reactivatedEnvKey: false };
    if (envKey) {
      const hash = sha256(envKey);
      const envRows = store.db.select().from(apiKeys).where(eq(apiKeys.source, "env")).all();
      for (const r of envRows) if (r.hash !== hash && r.revokedAt === null) store.db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, r.id)).run();
      const same = envRows.find((r) => r.hash === hash);
      if (!same) {
        insertKey(store, envKey, "WAHOOK_API_KEY", "admin", "env");
        return none;
      }
      if (same.revokedAt === null) return none;
      store.db.update(apiKeys).set({ revokedAt: null }).where(eq(apiKeys.id, same.id)).run();
      return { ...none, reactivatedEnvKey: true };
    }
    const anyKey = store.db.select({ id: apiKeys.id }).from(apiKeys).limit(1).get();
    if (anyKey) return none;
    const key = generateKey();
    insertKey(store, key, "generated at first start", "admin", "generated");
    return { ...none, generated: key };
  });
}
