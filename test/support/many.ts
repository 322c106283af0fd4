// Many accounts on the black-box rig (e2e.ts): paired through the daemon's API and the
// emulator's admin API, a few at a time; listed page by page; the daemon's log lines kept.
import type { Rig } from "./e2e.ts";
import { waitUntil } from "./wait.ts";

export const phoneOf = (i: number) => `1555${String(i).padStart(7, "0")}`;

/**
 * Pairs `count` accounts (phones phoneOf(from)…) `concurrency` at a time, then waits until
 * all are open. Pairing is CPU work on both sides (Signal keys, the QR image): about 7 to 10
 * accounts a second on 2 cores, whatever the concurrency past a few.
 */
export async function pairMany(rig: Rig, count: number, opts: { from?: number; concurrency?: number } = {}): Promise<{ ids: string[]; phones: string[] }> {
  const from = opts.from ?? 0;
  const ids: string[] = [];
  const phones: string[] = [];
  let next = from;
  const one = async () => {
    while (next < from + count) {
      const phone = phoneOf(next++);
      await rig.admin("POST", "/devices", { phone, pushName: "Shop", history: { enabled: false } });
      const created = await rig.api("POST", "/v1/accounts", { name: `Shop ${phone}` });
      if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
      const qr = await rig.api("GET", `/v1/accounts/${created.body.id}/qr`);
      if (qr.status !== 200) throw new Error(`qr: ${qr.status} ${JSON.stringify(qr.body)}`);
      await rig.admin("POST", `/devices/${phone}/scan`, { qr: qr.body.qr, pushName: "Shop" });
      ids.push(created.body.id);
      phones.push(phone);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 6 }, one));
  await waitUntil(async () => (await accountStates(rig)).filter((a) => ids.includes(a.id)).every((a) => a.state === "open"), 60_000, `${count} accounts open`, 100);
  return { ids, phones };
}

export interface AccountView {
  id: string;
  state: string;
  state_since: string;
  problem: { code: string; message: string } | null;
}

/** Every account, through the API's pages (200 at most each). */
export async function accountStates(rig: Rig): Promise<AccountView[]> {
  const out: AccountView[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = await rig.api("GET", `/v1/accounts?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    if (page.status !== 200) throw new Error(`list accounts: ${page.status} ${JSON.stringify(page.body)}`);
    out.push(...page.body.data);
    cursor = page.body.next_cursor;
  }
  return out;
}

/** How many times each emulated phone's devices logged in so far. */
export async function loginsByPhone(rig: Rig): Promise<Map<string, number>> {
  const devices = (await rig.admin("GET", "/devices")) as { phone: string; devices: { logins: number }[] }[];
  return new Map(devices.map((d) => [d.phone, d.devices.reduce((sum, x) => sum + x.logins, 0)]));
}

/** Reads the running daemon's stdout as JSON log lines as they come (an unread pipe would fill up and stall it). */
export function collectLog(rig: Rig): Record<string, any>[] {
  const lines: Record<string, any>[] = [];
  void (async () => {
    const reader = rig.daemon.proc.stdout.getReader();
    const decoder = new TextDecoder();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      rest += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ raw: line });
        }
      }
    }
  })();
  return lines;
}
