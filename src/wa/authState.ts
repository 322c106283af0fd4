// Baileys' auth state in SQLite instead of useMultiFileAuthState (which its authors say is
// not for production): creds as one BufferJSON row, signal keys as rows, each `keys.set`
// batch in one transaction. With a group commit (store/groupCommit.ts) key changes are
// written at the end of the turn with everything else the turn received, and before any
// frame of that turn leaves (wa/frameGate.ts): a receipt never goes out ahead of the
// session state that decrypted its message. Until then reads see them from `pending`.
import { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, proto, type AuthenticationCreds, type AuthenticationState, type CacheStore, type SignalDataTypeMap, type SignalKeyStore } from "baileys";
import type { Database } from "bun:sqlite";
import { readCreds, readKeys, writeCreds, writeKeys } from "../store/waAuth.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import type { BaileysLogger } from "./logger.ts";

const encode = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
const decode = <T>(text: string): T => JSON.parse(text, BufferJSON.reviver) as T;

/** `keyCache` is the account's, kept across sockets (see ttlCache.ts). */
export function sqliteAuthState(
  sqlite: Database,
  accountId: string,
  logger: BaileysLogger,
  keyCache: CacheStore,
  commit?: GroupCommit,
): { state: AuthenticationState; saveCreds(): void } {
  // A previous socket's key changes are in the database before this one reads any.
  commit?.flushNow();
  const stored = readCreds(sqlite, accountId);
  /** `${type}\u0000${id}` → encoded value (null: deleted), until its commit. */
  const pending = new Map<string, string | null>();
  const creds: AuthenticationCreds = stored ? decode(stored) : initAuthCreds();
  const keys: SignalKeyStore = {
    async get(type, ids) {
      const rows = new Map<string, string>();
      // Most reads come when nothing is waiting for a commit: no key strings to build then.
      let unwritten = ids;
      if (pending.size) {
        unwritten = [];
        for (const id of ids) {
          const key = `${type}\u0000${id}`;
          if (!pending.has(key)) unwritten.push(id);
          else if (pending.get(key) !== null) rows.set(id, pending.get(key)!);
        }
      }
      for (const [id, text] of readKeys(sqlite, accountId, type, unwritten)) rows.set(id, text);
      const out: { [id: string]: SignalDataTypeMap[typeof type] } = {};
      for (const [id, text] of rows) {
        let value = decode<unknown>(text);
        // Stored as plain JSON; Baileys expects the protobuf class for this one type.
        if (type === "app-state-sync-key" && value) value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
        out[id] = value as SignalDataTypeMap[typeof type];
      }
      return out;
    },
    async set(data) {
      const entries: { type: string; id: string; value: string | null }[] = [];
      for (const [type, byId] of Object.entries(data)) {
        for (const [id, value] of Object.entries(byId ?? {})) entries.push({ type, id, value: value ? encode(value) : null });
      }
      if (!commit) return writeKeys(sqlite, accountId, entries);
      for (const e of entries) pending.set(`${e.type}\u0000${e.id}`, e.value);
      commit.defer(
        `signal keys ${accountId}`,
        () => writeKeys(sqlite, accountId, entries),
        () => {
          for (const e of entries) {
            const key = `${e.type}\u0000${e.id}`;
            // A newer change of the same key waits for its own commit.
            if (pending.get(key) === e.value) pending.delete(key);
          }
        },
      );
    },
  };
  return {
    state: { creds, keys: makeCacheableSignalKeyStore(keys, logger as never, keyCache) },
    saveCreds: () => {
      // Creds may count keys written this turn (pre-key ids): those go first.
      commit?.flushNow();
      writeCreds(sqlite, accountId, encode(creds));
    },
  };
}
