// All linked accounts of this daemon: one AccountSession each, resumed at start-up for
// every account that has credentials, and the admin actions on them (pair, pairing
// code, logout, restart, delete).
import type { WAMessageKey, WASocket } from "baileys";
import type { AccountStatusChange, Message } from "../domain.ts";
import QRCode from "qrcode";
import { ApiError, unreachableMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { allAccounts, deleteAccount, getAccount, insertAccount, setAccountState, updateAccount, type AccountRow } from "../store/accounts.ts";
import type { Store } from "../store/db.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import { hasCreds } from "../store/waAuth.ts";
import type { ConnectSlots } from "./reconnectQueue.ts";
import { AccountSession, type ConnectProblem, type CurrentQr } from "./session.ts";

export interface AccountManagerOptions {
  store: Store;
  log: Logger;
  waUrl: string | null;
  /** Testing only: each pairing QR's lifetime; null = WhatsApp's own. */
  qrTimeoutMs?: number | null;
  /** Binds message, contact and group handlers to each new socket (events.ts). */
  attach(sock: WASocket, accountId: string): void;
  /** For tests: no terminal QR art in the log. */
  quiet?: boolean;
  /** End-of-turn commit of what the sockets receive (store/groupCommit.ts). */
  commit?: GroupCommit;
  /** `account.status` events, inside the transaction of the state change. */
  onStatus?(accountId: string, change: AccountStatusChange): void;
  /** Turns and file handles for opening sockets (reconnectQueue.ts). */
  slots?: ConnectSlots;
}

export interface QrView {
  qr: string;
  expires_at: string;
  png_data_url: string;
}

export class AccountManager {
  private readonly sessions = new Map<string, AccountSession>();

  constructor(private readonly opts: AccountManagerOptions) {}

  /** At start-up: every account with credentials that an admin did not stop. */
  resumeAll(): number {
    let n = 0;
    for (const row of allAccounts(this.opts.store)) {
      if (row.stopped || !hasCreds(this.opts.store, row.id)) continue;
      if (row.state === "logged_out" || row.state === "conflict") continue;
      this.sessionFor(row.id).start(false);
      n++;
    }
    return n;
  }

  create(name: string, email: string | null): AccountRow {
    this.mustHaveRoom();
    const row = insertAccount(this.opts.store, { name, email });
    // Pairing starts at once so the QR is ready when the admin asks for it.
    this.sessionFor(row.id).start();
    return getAccount(this.opts.store, row.id)!;
  }

  session(id: string): AccountSession | undefined {
    return this.sessions.get(id);
  }

  /** A session for pairing: refused when already open, started when not running. */
  private pairingSession(id: string): AccountSession {
    if (this.mustGet(id).state === "open") throw new ApiError("account_open");
    const session = this.sessionFor(id);
    if (!session.isRunning || this.opts.slots?.isParked(id)) this.mustHaveRoom(id);
    if (!session.isRunning) {
      updateAccount(this.opts.store, id, { stopped: false });
      session.start();
    }
    return session;
  }

  async qr(id: string): Promise<QrView> {
    const session = this.pairingSession(id);
    await session.waitForQrOrOpen(15_000);
    const current = session.qr;
    if (!current) {
      if (this.mustGet(id).state === "open") throw new ApiError("account_open");
      throw unreachableError(session.problem) ?? new ApiError("qr_unavailable");
    }
    return qrView(current);
  }

  /** Calls `fn` after every change of the account an admin can see; returns the unsubscribe. */
  watch(id: string, fn: () => void): () => void {
    return this.sessionFor(id).watch(fn);
  }

  /** The QR on offer right now, without starting a pairing; null when there is none. */
  async currentQr(id: string): Promise<QrView | null> {
    const current = this.sessions.get(id)?.qr;
    return current ? qrView(current) : null;
  }

  /** Why an account cannot connect right now (shown with it), or null. */
  problem(id: string): ConnectProblem | null {
    return this.sessions.get(id)?.problem ?? null;
  }

  async pairingCode(id: string, phone: string): Promise<{ code: string }> {
    const session = this.pairingSession(id);
    try {
      return { code: await session.requestPairingCode(phone) };
    } catch (error) {
      this.opts.log.warn("pairing code request failed", { account_id: id, error });
      throw unreachableError(session.problem) ?? new ApiError("qr_unavailable", "WhatsApp did not hand out a pairing code; try again in a few seconds.");
    }
  }

  async logout(id: string): Promise<AccountRow> {
    this.mustGet(id);
    const session = this.sessionFor(id);
    await session.logout();
    return setAccountState(this.opts.store, id, "logged_out", { phone: null, lid: null, stopped: true })!;
  }

  restart(id: string): AccountRow {
    this.mustGet(id);
    const session = this.sessionFor(id);
    session.stop();
    updateAccount(this.opts.store, id, { stopped: false });
    session.start();
    return this.mustGet(id);
  }

  /**
   * Deletes an account. A linked device is logged out first, so the phone does not keep a
   * dead entry under Linked devices (bounded: an unreachable WhatsApp does not block it).
   */
  async remove(id: string, purge: boolean): Promise<void> {
    this.mustGet(id);
    const session = this.sessions.get(id);
    if (session?.sock && this.mustGet(id).state === "open") await session.logout();
    else session?.stop();
    this.sessions.delete(id);
    // Nothing of this account's may be written after it is gone.
    this.opts.commit?.flushNow();
    deleteAccount(this.opts.store, id, purge);
  }

  /**
   * Asks the phone for `count` messages older than `oldest` (a stored message) in its chat.
   * The answer comes later as history with the returned request id. Rejects when the
   * account is not connected: the phone can only be asked over a live connection.
   */
  async requestOlder(accountId: string, oldest: Message, count: number): Promise<string> {
    const sock = this.sessions.get(accountId)?.sock;
    if (!sock || getAccount(this.opts.store, accountId)?.state !== "open") throw new Error(`account ${accountId} is not connected`);
    const key = (oldest.raw as { key?: WAMessageKey } | null)?.key;
    if (!key?.remoteJid || !key.id) throw new Error(`message ${oldest.id} has no WhatsApp key to ask from`);
    return sock.fetchMessageHistory(count, key, oldest.timestamp * 1000);
  }

  stopAll(): void {
    for (const session of this.sessions.values()) session.stop();
    this.opts.slots?.stop();
  }

  /** A new socket needs a file handle; without one, pairing would fail later and look like an unscanned QR. */
  private mustHaveRoom(id?: string): void {
    const slots = this.opts.slots;
    if (!slots || slots.hasRoom(id)) return;
    const { limit, capacity, held } = slots.budget;
    throw new ApiError("resource_limit", undefined, { open_files_limit: limit, accounts_connected: held, accounts_fit: capacity });
  }

  private mustGet(id: string): AccountRow {
    const row = getAccount(this.opts.store, id);
    if (!row) throw new ApiError("not_found", `No account ${id}.`);
    return row;
  }

  private sessionFor(id: string): AccountSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = new AccountSession({
        store: this.opts.store,
        log: this.opts.log,
        accountId: id,
        waUrl: this.opts.waUrl,
        qrTimeoutMs: this.opts.qrTimeoutMs ?? null,
        commit: this.opts.commit,
        slots: this.opts.slots,
        attach: (sock) => this.opts.attach(sock, id),
        onStatus: this.opts.onStatus && ((change) => this.opts.onStatus!(id, change)),
        printQr: this.opts.quiet ? undefined : (qr) => printQr(this.opts.log, id, qr),
      });
      this.sessions.set(id, session);
    }
    return session;
  }
}

/** The catalogue error for an account that cannot reach WhatsApp, naming the cause. */
function unreachableError(problem: ConnectProblem | null): ApiError | null {
  if (!problem) return null;
  if (problem.code === "resource_limit") return new ApiError("resource_limit", undefined, { cause: problem.cause, since: new Date(problem.since).toISOString() });
  return new ApiError("whatsapp_unreachable", unreachableMessage(problem.cause), { cause: problem.cause, since: new Date(problem.since).toISOString() });
}

async function qrView(current: CurrentQr): Promise<QrView> {
  return {
    qr: current.value,
    expires_at: new Date(current.expiresAt).toISOString(),
    png_data_url: await QRCode.toDataURL(current.value, { errorCorrectionLevel: "L", margin: 2, scale: 6 }),
  };
}

export async function qrPng(qr: string): Promise<Buffer> {
  return QRCode.toBuffer(qr, { errorCorrectionLevel: "L", margin: 2, scale: 8, type: "png" });
}

function printQr(log: Logger, accountId: string, qr: string): void {
  QRCode.toString(qr, { type: "terminal", small: true, errorCorrectionLevel: "L" })
    .then((art) => {
      // Terminal art for an admin tailing the log; the same code is at GET /v1/accounts/{id}/qr.
      process.stdout.write(`\nScan with WhatsApp → Linked devices (account ${accountId}):\n${art}\n`);
      log.info("pairing QR ready", { account_id: accountId, api: `/v1/accounts/${accountId}/qr` });
    })
    .catch(() => {});
}
