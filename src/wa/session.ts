// One linked account's connection: exactly one live socket, a new socket for every
// (re)connect with the old one fully released, and the close-code policy of reconnect.ts.
// Messages, contacts and groups are handled by `attach` (events.ts); this file is only
// the lifecycle.
import makeWASocket, { Browsers, fetchLatestWaWebVersion, type WASocket, type WAVersion } from "baileys";
import type { AccountState, AccountStatusChange } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { getAccount, setAccountState, updateAccount, type AccountPatch } from "../store/accounts.ts";
import { wipeAuth } from "../store/waAuth.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import { TtlCache } from "./ttlCache.ts";
import { isPaired, storedAuthState } from "./authState.ts";
import { userOf } from "./jids.ts";
import { baileysLogger } from "./logger.ts";
import { decideOnClose, STABLE_AFTER_MS } from "./reconnect.ts";
import type { ConnectSlots } from "./reconnectQueue.ts";

/** Baileys does not emit `close` when the upgrade is refused: our own watchdog does. */
const CONNECT_WATCHDOG_MS = 30_000;
/** The first QR ref lives 60 s, later ones 20 s, as in WhatsApp Web (README Configuration, WAHOOK_WA_QR_TIMEOUT_S). */
const FIRST_QR_MS = 60_000;
const NEXT_QR_MS = 20_000;
/** Consecutive failed connections after which a paired account is reported `failed` (still retried). */
const FAILED_AFTER = 3;
/** Baileys' name for the account between requestPairingCode and pair-success. */
const PROVISIONAL_NAME = "~";

export interface SessionOptions {
  store: Store;
  log: Logger;
  accountId: string;
  waUrl: string | null;
  /** Testing only: each pairing QR's lifetime (Baileys' qrTimeout); null = WhatsApp's 60 s, then 20 s. */
  qrTimeoutMs?: number | null;
  /** Binds message, contact and group handlers to a new socket. */
  attach(sock: WASocket, session: AccountSession): void;
  /** End-of-turn commit for signal key changes (store/groupCommit.ts); immediate writes without. */
  commit?: GroupCommit;
  /** An `account.status` event; runs in the transaction that writes the new state. */
  onStatus?(change: AccountStatusChange): void;
  /** Prints a QR as terminal art (once per ref). */
  printQr?(qr: string): void;
  /** Turns and file handles for opening sockets (reconnectQueue.ts); without, sockets open at once. */
  slots?: ConnectSlots;
  random?: () => number;
}

export interface CurrentQr {
  value: string;
  expiresAt: number;
}

/** Why this account cannot connect right now, as the API shows it; null once WhatsApp answers. */
export interface ConnectProblem {
  /** resource_limit: no file handle free under the open-files limit (fdBudget.ts). */
  code: "whatsapp_unreachable" | "resource_limit";
  /** The underlying error, e.g. "getaddrinfo ENOTFOUND web.whatsapp.com". */
  cause: string;
  since: number;
}

export class AccountSession {
  sock: WASocket | null = null;
  qr: CurrentQr | null = null;
  problem: ConnectProblem | null = null;
  /** Sockets created so far (tests count reconnects with it). */
  connects = 0;
  private failures = 0;
  private openedAt = 0;
  private qrCount = 0;
  /** The current socket got a QR or a login from WhatsApp (else a close means "unreachable"). */
  private reached = false;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private version: WAVersion | undefined;
  private readonly waiters = new Set<() => void>();
  /** Told of every change an admin can see: state, QR, problem (the account's event stream). */
  private readonly watchers = new Set<() => void>();
  private readonly log: Logger;
  /** Shared by every socket of this account; expiry times as Baileys' own defaults. */
  private readonly caches = {
    signalKeys: new TtlCache(5 * 60_000),
    /** Signal keys the database does not have (authState.ts). */
    absentKeys: new TtlCache(5 * 60_000),
    userDevices: new TtlCache(5 * 60_000),
    msgRetry: new TtlCache(60 * 60_000),
    callOffer: new TtlCache(5 * 60_000),
    placeholderResend: new TtlCache(60 * 60_000),
  };

  constructor(private readonly opts: SessionOptions) {
    this.log = opts.log.child({ account_id: opts.accountId });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** `urgent`: someone waits for it (pairing, restart); a resume at start-up takes its turn. */
  start(urgent = true): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    // Honest while it waits for its turn: on the way, not the state of the last run.
    this.setState(isPaired(this.opts.store, this.opts.accountId) ? "connecting" : "pairing");
    this.requestConnect(urgent);
  }

  /** Ends the socket and stops reconnecting; the state is set by the caller. */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.release();
    this.opts.slots?.leave(this.opts.accountId);
    if (this.problem?.code === "resource_limit") this.problem = null;
    this.qr = null;
    this.notify();
  }

  /** Logs out on WhatsApp (the phone sees the device removed) and forgets the credentials. */
  async logout(): Promise<void> {
    const sock = this.sock;
    this.running = false;
    if (sock) {
      try {
        await Promise.race([sock.logout(), Bun.sleep(5_000)]);
      } catch (error) {
        this.log.warn("logout on WhatsApp failed; credentials are wiped anyway", { error });
      }
    }
    this.stop();
    this.forgetCredentials();
  }

  /** Resolves once a QR is on offer, the account is open, or the session stopped. */
  async waitForQrOrOpen(timeoutMs: number): Promise<void> {
    if (this.qr || !this.running || this.stateIs("open")) return;
    await Promise.race([new Promise<void>((resolve) => this.waiters.add(resolve)), Bun.sleep(timeoutMs)]);
  }

  async requestPairingCode(phone: string): Promise<string> {
    await this.waitForQrOrOpen(10_000);
    if (!this.sock || !this.qr) throw new Error("the connection is not ready for pairing");
    return this.sock.requestPairingCode(phone);
  }

  private stateIs(state: AccountState): boolean {
    return getAccount(this.opts.store, this.opts.accountId)?.state === state;
  }

  /** A state change, with the `account.status` event it means (if any) in the same transaction. */
  private setState(state: AccountState, patch: AccountPatch = {}, status?: AccountStatusChange): void {
    const onStatus = this.opts.onStatus;
    setAccountState(this.opts.store, this.opts.accountId, state, patch, status && onStatus ? () => onStatus(status) : undefined);
    for (const watcher of this.watchers) watcher();
  }

  /** Calls `fn` after every state change (a new QR is one); returns the unsubscribe. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private notify(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }

  /** Credentials gone (logout, 401): cached keys of the old identity must go with them. */
  private forgetCredentials(): void {
    // Key changes still waiting for the end of the turn must not come back after the wipe.
    this.opts.commit?.flushNow();
    wipeAuth(this.opts.store, this.opts.accountId);
    for (const cache of Object.values(this.caches)) cache.flushAll();
  }

  /** Listeners off, socket closed: nothing of an old socket stays reachable. */
  private release(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    const sock = this.sock;
    this.sock = null;
    if (!sock) return;
    this.opts.slots?.settled(this.opts.accountId);
    sock.ev.removeAllListeners(undefined as never);
    try {
      sock.end(undefined);
    } catch {}
    try {
      sock.ws.close();
    } catch {}
  }

  private connect(): void {
    this.release();
    if (!this.running) return;
    const { store, accountId } = this.opts;
    const logger = baileysLogger(this.log);
    const auth = storedAuthState(store, accountId, this.caches.signalKeys, this.opts.commit, this.caches.absentKeys);
    // requestPairingCode stores a provisional `me` (named "~") before the phone confirms;
    // on a new socket that code is dead, and Baileys would log in as a device WhatsApp
    // never registered (401, "logged out" for an account that was never paired). Paired
    // means WhatsApp signed this device's identity (`account`, set by pair-success).
    if (auth.state.creds.me && !auth.state.creds.account) auth.state.creds.me = undefined;
    const paired = !!auth.state.creds.account;
    // A new pairing starts clean: how the last one ended is no news to whoever starts it.
    const fresh: AccountPatch = !paired && this.failures === 0 ? { lastDisconnectCode: null, lastDisconnectReason: null, lastDisconnectAt: null } : {};
    this.setState(paired ? (this.failures > 0 ? "reconnecting" : "connecting") : "pairing", fresh);
    this.qrCount = 0;
    this.reached = false;
    this.connects++;
    const sock = makeWASocket({
      auth: auth.state,
      logger: logger as never,
      browser: Browsers.macOS("Desktop"),
      // Full history after the first pairing (stored; delivered only when asked for).
      syncFullHistory: true,
      shouldSyncHistoryMessage: () => true,
      markOnlineOnConnect: false,
      connectTimeoutMs: 20_000,
      defaultQueryTimeoutMs: 60_000,
      // This account's caches, not new ones per socket (ttlCache.ts says why).
      userDevicesCache: this.caches.userDevices,
      msgRetryCounterCache: this.caches.msgRetry,
      callOfferCache: this.caches.callOffer,
      placeholderResendCache: this.caches.placeholderResend,
      ...(this.opts.waUrl ? { waWebSocketUrl: this.opts.waUrl } : {}),
      ...(this.opts.qrTimeoutMs ? { qrTimeout: this.opts.qrTimeoutMs } : {}),
      ...(this.version ? { version: this.version } : {}),
    });
    this.sock = sock;
    let pushName = auth.state.creds.me?.name ?? null;
    sock.ev.on("creds.update", (update) => {
      auth.saveCreds();
      // The account's own WhatsApp name arrives after login, in the creds.
      const name = update.me?.name ?? null;
      if (name && name !== PROVISIONAL_NAME && name !== pushName) {
        pushName = name;
        updateAccount(this.opts.store, this.opts.accountId, { pushName: name });
      }
    });
    sock.ev.on("connection.update", (update) => {
      if (this.sock !== sock) return;
      if (update.qr) this.onQr(update.qr);
      // pair-success: the phone accepted this device (the 515 restart and the login follow).
      if (update.isNewLogin) this.onPaired(auth.state.creds.me?.id ?? null);
      if (update.connection === "open") this.onOpen(sock);
      // Caught up with what queued while it was away: the heavy part of a reconnect is over.
      if (update.receivedPendingNotifications) this.opts.slots?.settled(accountId);
      if (update.connection === "close") {
        const error = update.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string } | undefined;
        this.onClose(error?.output?.statusCode, error?.message ?? null, !!auth.state.creds.account);
      }
    });
    this.opts.attach(sock, this);
    this.watchdog = setTimeout(() => {
      if (this.sock !== sock || this.qr || this.stateIs("open")) return;
      this.onClose(undefined, `no answer within ${CONNECT_WATCHDOG_MS / 1000} s`, paired);
    }, CONNECT_WATCHDOG_MS);
  }

  private onQr(qr: string): void {
    const now = Date.now();
    this.reached = true;
    this.problem = null;
    this.qr = { value: qr, expiresAt: now + (this.opts.qrTimeoutMs ?? (this.qrCount === 0 ? FIRST_QR_MS : NEXT_QR_MS)) };
    this.qrCount++;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.opts.slots?.settled(this.opts.accountId);
    this.setState("pairing");
    this.opts.printQr?.(qr);
    this.notify();
  }

  private onPaired(meJid: string | null): void {
    const phone = userOf(meJid);
    this.log.info("paired with a phone", { phone_suffix: phone?.slice(-4) ?? null });
    this.qr = null;
    this.setState("connecting", { phone }, { status: "paired", reason: null, code: null, phone });
  }

  private onOpen(sock: WASocket): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.reached = true;
    this.problem = null;
    this.qr = null;
    this.openedAt = Date.now();
    const user = sock.user;
    const phone = userOf(user?.id);
    const lid = userOf(user?.lid);
    const name = user?.name ?? user?.notify ?? null;
    this.setState("open", name ? { phone, lid, pushName: name } : { phone, lid }, { status: "open", reason: null, code: null, phone });
    // Routine at a thousand accounts: the queue logs one line per start or mass reconnect.
    this.log.debug("WhatsApp connection open", { phone_suffix: phone?.slice(-4) ?? null });
    this.notify();
  }

  private onClose(code: number | undefined, message: string | null, paired: boolean): void {
    this.release();
    this.qr = null;
    if (!this.running) return;
    if (this.openedAt && Date.now() - this.openedAt >= STABLE_AFTER_MS) this.failures = 0;
    this.openedAt = 0;
    if (code !== 515) this.failures++;
    const decision = decideOnClose(code, { failures: this.failures, paired, random: this.opts.random, reached: this.reached, message });
    const unreachable = decision.action === "reconnect" ? decision.unreachable : undefined;
    const reason = unreachable ? `${decision.reason}; run \`wahook doctor\` on this machine to see why` : decision.reason;
    const disconnect: AccountPatch = { lastDisconnectCode: unreachable ? null : (code ?? null), lastDisconnectReason: reason, lastDisconnectAt: Date.now() };
    if (unreachable) {
      // Once per streak: the retries that follow say nothing new.
      if (!this.problem) this.log.warn("cannot reach WhatsApp; retrying with backoff (run `wahook doctor`)", { cause: unreachable.cause, retry_in_ms: "delayMs" in decision ? decision.delayMs : null });
      this.problem ??= { code: "whatsapp_unreachable", cause: unreachable.cause, since: Date.now() };
      this.problem.cause = unreachable.cause;
    } else {
      // A reconnect is routine (one line each would be a thousand in a network blip); what needs a person is info.
      this.log[decision.action === "reconnect" ? "debug" : "info"]("WhatsApp connection closed", { code: code ?? null, message, action: decision.action });
    }
    const phone = getAccount(this.opts.store, this.opts.accountId)?.phone ?? null;
    const report = (status: AccountStatusChange["status"]): AccountStatusChange => ({ status, reason, code: unreachable ? null : (code ?? null), phone });
    // A paired account that drops is news once, when the streak starts, and again when it
    // has kept failing; not at every retry in between. The 515 after a pairing is no news.
    const streak = paired && code !== 515 ? (this.failures === 1 ? report("reconnecting") : this.failures === FAILED_AFTER ? report("failed") : undefined) : undefined;
    switch (decision.action) {
      case "logged_out":
        this.running = false;
        this.forgetCredentials();
        this.setState("logged_out", { ...disconnect, phone: null, lid: null }, report("logged_out"));
        break;
      case "conflict":
        this.running = false;
        this.setState("conflict", disconnect, report("conflict"));
        break;
      case "pairing_expired":
        this.running = false;
        this.setState("stopped", disconnect, report("stopped"));
        break;
      case "refresh_version":
        this.setState("reconnecting", disconnect, streak);
        void this.refreshVersion().finally(() => this.schedule(decision.delayMs));
        break;
      case "reconnect":
        this.setState(paired ? "reconnecting" : "pairing", disconnect, streak);
        this.schedule(decision.delayMs);
        break;
    }
    if (!this.running) this.opts.slots?.leave(this.opts.accountId);
    this.notify();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // At once (515 after a scan) means someone is waiting for it.
      this.requestConnect(delayMs === 0);
    }, delayMs);
  }

  /** Opens a socket when the queue gives this account its turn and a file handle. */
  private requestConnect(urgent: boolean): void {
    const slots = this.opts.slots;
    if (!slots) return this.connect();
    slots.request(this.opts.accountId, urgent, {
      go: () => {
        if (this.problem?.code === "resource_limit") this.problem = null;
        this.connect();
      },
      denied: () => this.onNoFileHandle(),
    });
  }

  /** Waits as `failed` (resource_limit) until a file handle frees up; the queue retries it. */
  private onNoFileHandle(): void {
    if (!this.running) return;
    const cause = "no file handle free under the open-files limit";
    this.problem = { code: "resource_limit", cause, since: Date.now() };
    const phone = getAccount(this.opts.store, this.opts.accountId)?.phone ?? null;
    this.setState("failed", {}, { status: "failed", reason: `resource_limit: ${cause}`, code: null, phone });
    this.notify();
  }

  private async refreshVersion(): Promise<void> {
    try {
      const latest = await fetchLatestWaWebVersion({ signal: AbortSignal.timeout(10_000) });
      if (latest.isLatest || latest.version) this.version = latest.version;
      this.log.info("WhatsApp Web version refreshed", { version: this.version?.join(".") });
    } catch (error) {
      this.log.warn("could not fetch the current WhatsApp Web version", { error });
    }
  }
}
