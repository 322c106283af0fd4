// kill -9 while events flow (README "Delivery guarantees"): a child process runs the real
// daemon and feeds it 2,000 messages; it is SIGKILLed three times mid-stream and
// restarted on the same data folder. The receiver must get every event, each chat in
// order, and a repeat only as a resend of the very same delivery (same webhook-id).
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Webhook as Verifier } from "standardwebhooks";
import { tempDir } from "../support/app.ts";
import { startSink, type Sink, type SinkRequest } from "../support/sink.ts";
import { waitUntil } from "../support/wait.ts";

const TOTAL = 2_000;
const CHATS = 20;
/** Kill points: after this many accepted messages, plus up to 200 more at random. */
const KILL_AFTER = [300, 900, 1_500];
const MAX_CONCURRENCY = 8;
const API_KEY = "crash-test-admin-key-0123456789abcdef";
const CHILD = join(import.meta.dir, "crash-child.ts");

let sink: Sink;
let dir: string;
let child: Subprocess<"ignore", "pipe", "inherit"> | null = null;

const payload = (r: SinkRequest) => r.json as { chat_id: string; seq: number; message: { id: string } };

/**
 * The first copy of every 50th message is answered 500. Its retry comes a second later,
 * and the rest of its chat must wait for it: without these refusals requests of one chat
 * reach the receiver in the order they were sent even if they were sent all at once, and
 * the order check below could not fail.
 */
function refusesFirstCopy(id: string): boolean {
  return Number(id.replace(/\D/g, "")) % 50 === 7;
}

/** Walks the requests in arrival order: which were answered 2xx (the sink decides the same way). */
function accepted(requests: SinkRequest[]): SinkRequest[] {
  const seen = new Set<string>();
  return requests.filter((r) => {
    const id = payload(r).message.id;
    const first = !seen.has(id);
    seen.add(id);
    return !(first && refusesFirstCopy(id));
  });
}

beforeAll(async () => {
  sink = await startSink();
  const seen = new Set<string>();
  sink.respondWith((request) => {
    const id = payload(request).message.id;
    const first = !seen.has(id);
    seen.add(id);
    if (first && refusesFirstCopy(id)) return { status: 500 };
    // Quick answers, with a little jitter so some requests are always in flight at a kill.
    return { status: 200, delayMs: Math.floor(Math.random() * 4) };
  });
  dir = tempDir("wahook-crash-");
});

afterAll(async () => {
  child?.kill("SIGKILL");
  await child?.exited;
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startChild(): Promise<number> {
  const proc = Bun.spawn(["bun", CHILD], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      WAHOOK_DATA_DIR: dir,
      WAHOOK_API_KEY: API_KEY,
      WAHOOK_ALLOW_TARGETS: "loopback",
      WAHOOK_HOST: "127.0.0.1",
      WAHOOK_PORT: "0",
      CRASH_TOTAL: String(TOTAL),
      CRASH_CHATS: String(CHATS),
      CRASH_GAP_MS: "3",
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  child = proc;
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the daemon child exited before listening (exit ${await proc.exited})`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return (JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number }).port;
}

async function killChild(): Promise<void> {
  child!.kill("SIGKILL");
  await child!.exited;
  child = null;
}

/** True once `count` different messages have been accepted; remembers what it has counted. */
function acceptedAtLeast(count: number): (requests: SinkRequest[]) => boolean {
  const seen = new Set<string>();
  const ok = new Set<string>();
  let scanned = 0;
  return (requests) => {
    for (; scanned < requests.length; scanned++) {
      const id = payload(requests[scanned]!).message.id;
      if (seen.has(id) || !refusesFirstCopy(id)) ok.add(id);
      seen.add(id);
    }
    return ok.size >= count;
  };
}

/** Waits for `count` accepted messages; on a timeout says how many came, not every request. */
async function waitAccepted(count: number, timeoutMs: number): Promise<void> {
  const done = acceptedAtLeast(count);
  await sink.waitFor(done, timeoutMs).catch(() => {
    const got = new Set(accepted(sink.requests).map((r) => payload(r).message.id)).size;
    throw new Error(`${got} of ${count} messages accepted by the receiver within ${timeoutMs} ms (${sink.requests.length} requests)`);
  });
}

function count(sqlite: Database, sql: string): number {
  return (sqlite.query(sql).get() as { n: number }).n;
}

test(
  "SIGKILL three times while 2,000 events flow: every event arrives, each chat in order, repeats only as resends",
  async () => {
    const port = await startChild();
    const created = await fetch(`http://127.0.0.1:${port}/v1/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ url: sink.url("/crash"), events: ["message.received"], max_concurrency: MAX_CONCURRENCY, retry_schedule_s: [1] }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };

    const storedAtKill: number[] = [];
    for (const after of KILL_AFTER) {
      await waitAccepted(after + Math.floor(Math.random() * 200), 20_000);
      await killChild();
      const sqlite = new Database(join(dir, "wahook.db"));
      storedAtKill.push(count(sqlite, "SELECT COUNT(*) AS n FROM messages"));
      sqlite.close();
      await startChild();
    }
    await waitAccepted(TOTAL, 30_000);

    // The database agrees once the last receipts are recorded: each message stored once,
    // each delivery finished.
    const sqlite = new Database(join(dir, "wahook.db"));
    try {
      await waitUntil(() => count(sqlite, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'delivered'") === TOTAL, 5_000, "every outbox row delivered");
      expect(count(sqlite, "SELECT COUNT(*) AS n FROM messages")).toBe(TOTAL);
      expect(count(sqlite, "SELECT COUNT(*) AS n FROM outbox")).toBe(TOTAL);
    } finally {
      sqlite.close();
    }
    await killChild();

    // Each kill really came while the stream was still being fed.
    expect(storedAtKill.every((n, i) => n < TOTAL && n > (storedAtKill[i - 1] ?? 0))).toBe(true);

    const requests = [...sink.requests];
    const verifier = new Verifier(secret);
    for (const r of requests) expect(() => verifier.verify(r.body, r.headers)).not.toThrow();

    // Any repeat (a retry after the 500, a resend after a kill) is the same delivery:
    // same webhook-id, same body.
    const firstCopy = new Map<string, SinkRequest>();
    for (const r of requests) {
      const first = firstCopy.get(payload(r).message.id);
      if (!first) firstCopy.set(payload(r).message.id, r);
      else expect([r.headers["webhook-id"], r.body]).toEqual([first.headers["webhook-id"], first.body]);
    }

    const firstAccepted = new Map<string, SinkRequest>();
    let resentAfterAccepted = 0;
    for (const r of accepted(requests)) {
      if (firstAccepted.has(payload(r).message.id)) resentAfterAccepted++;
      else firstAccepted.set(payload(r).message.id, r);
    }
    const expectedIds = Array.from({ length: TOTAL }, (_, i) => `CRASH${String(i).padStart(6, "0")}`);
    expect([...firstAccepted.keys()].sort()).toEqual(expectedIds);
    // Only attempts in flight at a kill can be sent again after a 2xx: at most max_concurrency per kill.
    expect(resentAfterAccepted).toBeLessThanOrEqual(KILL_AFTER.length * MAX_CONCURRENCY);

    // Per chat, accepted events come in stream order with seq 1..n and no gap.
    const byChat = new Map<string, { seq: number; id: string }[]>();
    for (const r of firstAccepted.values()) {
      const p = payload(r);
      byChat.set(p.chat_id, [...(byChat.get(p.chat_id) ?? []), { seq: p.seq, id: p.message.id }]);
    }
    expect(byChat.size).toBe(CHATS);
    for (const arrivals of byChat.values()) {
      expect(arrivals.map((a) => a.seq)).toEqual(arrivals.map((_, i) => i + 1));
      expect(arrivals.map((a) => a.id)).toEqual(arrivals.map((a) => a.id).sort());
    }
  },
  60_000,
);
