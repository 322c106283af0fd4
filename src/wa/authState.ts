// Baileys' auth state in SQLite instead of useMultiFileAuthState (which its authors say is
// not for production): creds as one BufferJSON row, signal keys as rows, each `keys.set`
// batch in one transaction.
import { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, proto, type AuthenticationCreds, type AuthenticationState, type CacheStore, type SignalDataTypeMap, type SignalKeyStore } from "baileys";
import type { Database } from "bun:sqlite";
import { readCreds, readKeys, writeCreds, writeKeys } from "../store/waAuth.ts";
import type { BaileysLogger } from "./logger.ts";

const encode = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
const decode = <T>(text: string): T => JSON.parse(text, BufferJSON.reviver) as T;

/** `keyCache` is the account's, kept across sockets (see ttlCache.ts). */
export function sqliteAuthState(sqlite: Database, accountId: string, logger: BaileysLogger, keyCache: CacheStore): { state: AuthenticationState; saveCreds(): void } {
  const stored = readCreds(sqlite, accountId);
  const creds: AuthenticationCreds = stored ? decode(stored) : initAuthCreds();
  const keys: SignalKeyStore = {
    async get(type, ids) {
      const rows = readKeys(sqlite, accountId, type, ids);
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
      writeKeys(sqlite, accountId, entries);
    },
  };
  return {
    state: { creds, keys: makeCacheableSignalKeyStore(keys, logger as never, keyCache) },
    saveCreds: () => writeCreds(sqlite, accountId, encode(creds)),
  };
}
