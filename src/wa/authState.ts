// Baileys' auth state in the store instead of useMultiFileAuthState (which its authors say is
// not for production): creds as one BufferJSON row, signal keys as rows, each `keys.set`
// batch in one transaction. With a group commit (store/groupCommit.ts) key changes are
// written at the end of the turn with everything else the turn received, and before any
// frame of that turn leaves (wa/frameGate.ts): a receipt never goes out ahead of the
// session state that decrypted its message. Until then reads see them from `unwritten`.
//
// A busy chat changes its Signal session with every message, dozens of times a turn: only
// the turn's last value of a key is encoded and written (encoding a session was a tenth of
// the daemon's time per message in a burst). Keys known to be missing are remembered too:
// Baileys asks for some (`device-list`) with every message.
//
// Decoded keys are kept in the account's `keyCache` here, rather than through Baileys'
// makeCacheableSignalKeyStore: that wraps every read and write in a mutex (promises and a
// queue per call) that a store answering synchronously does not need.
import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type SignalDataTypeMap, type SignalKeyStore } from "baileys";
import type { Store } from "../store/db.ts";
import { readCreds, readKeys, writeCreds, writeKeys } from "../store/waAuth.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import type { TtlCache } from "./ttlCache.ts";

const encode = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
const decode = <T>(text: string): T => JSON.parse(text, BufferJSON.reviver) as T;

interface KeyChange {
  type: string;
  id: string;
  /** null: deleted. */
  value: unknown;
}

/**
 * `keyCache` (found keys) and `absentKeys` (keys not in the database) are the account's,
 * kept across sockets (see ttlCache.ts); every write of the account's keys goes through
 * here, which keeps `absentKeys` true.
 */
export function storedAuthState(
  store: Store,
  accountId: string,
  keyCache: TtlCache,
  commit?: GroupCommit,
  absentKeys?: TtlCache,
): { state: AuthenticationState; saveCreds(): void } {
  // A previous socket's key changes are in the database before this one reads any.
  commit?.flushNow();
  const stored = readCreds(store, accountId);
  /** `${type}\u0000${id}` → the latest change not yet committed. */
  const unwritten = new Map<string, KeyChange>();
  let scheduled = false;
  let written: [string, KeyChange][] = [];
  const writeUnwritten = () => {
    scheduled = false;
    written = [...unwritten];
    writeKeys(
      store,
      accountId,
      written.map(([, c]) => ({ type: c.type, id: c.id, value: c.value ? encode(c.value) : null })),
    );
  };
  const afterCommit = () => {
    // A newer change of the same key waits for its own commit.
    for (const [key, change] of written) if (unwritten.get(key) === change) unwritten.delete(key);
    written = [];
  };
  const creds: AuthenticationCreds = stored ? decode(stored) : initAuthCreds();
  const keys: SignalKeyStore = {
    async get(type, ids) {
      const out: { [id: string]: SignalDataTypeMap[typeof type] } = {};
      const toRead: string[] = [];
      for (const id of ids) {
        // null: deleted (a used pre-key).
        const cached = keyCache.get<SignalDataTypeMap[typeof type] | null>(`${type}.${id}`);
        if (cached !== undefined) {
          if (cached) out[id] = cached;
          continue;
        }
        const key = `${type}\u0000${id}`;
        const change = unwritten.get(key);
        if (change) {
          if (change.value) out[id] = change.value as SignalDataTypeMap[typeof type];
        } else if (!absentKeys?.get(key)) toRead.push(id);
      }
      if (!toRead.length) return out;
      const rows = readKeys(store, accountId, type, toRead);
      for (const id of toRead) {
        const text = rows.get(id);
        if (text === undefined) {
          absentKeys?.set(`${type}\u0000${id}`, true);
          continue;
        }
        let value = decode<unknown>(text);
        // Stored as plain JSON; Baileys expects the protobuf class for this one type.
        if (type === "app-state-sync-key" && value) value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
        out[id] = value as SignalDataTypeMap[typeof type];
        keyCache.set(`${type}.${id}`, value);
      }
      return out;
    },
    async set(data) {
      const changes: KeyChange[] = [];
      for (const [type, byId] of Object.entries(data)) {
        for (const [id, value] of Object.entries(byId ?? {})) changes.push({ type, id, value: value ?? null });
      }
      for (const c of changes) {
        keyCache.set(`${c.type}.${c.id}`, c.value);
        if (c.value) absentKeys?.del(`${c.type}\u0000${c.id}`);
      }
      if (!commit) {
        return writeKeys(
          store,
          accountId,
          changes.map((c) => ({ type: c.type, id: c.id, value: c.value ? encode(c.value) : null })),
        );
      }
      for (const c of changes) unwritten.set(`${c.type}\u0000${c.id}`, c);
      // One piece per commit writes the latest of every key changed before it runs.
      if (scheduled) return;
      scheduled = true;
      commit.defer(`signal keys ${accountId}`, writeUnwritten, afterCommit);
    },
  };
  return {
    state: { creds, keys },
    saveCreds: () => {
      // Creds may count keys written this turn (pre-key ids): those go first.
      commit?.flushNow();
      writeCreds(store, accountId, encode(creds));
    },
  };
}

/** WhatsApp registered this account's device (pair-success set `account`): it logs in rather than pairs. */
export function isPaired(store: Store, accountId: string): boolean {
  const text = readCreds(store, accountId);
  return !!text && !!(JSON.parse(text) as { account?: unknown }).account;
}
