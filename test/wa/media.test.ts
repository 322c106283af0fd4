// Media that cannot be had: too large for WAHOOK_MEDIA_MAX_MB, or a media host that keeps
// failing. Such a message is still delivered (file_url null), never held forever, and
// never holds up another chat.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { freePort } from "../support/binary.ts";
import type { SinkRequest } from "../support/sink.ts";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

const OWNER = "15550007001";
const ALICE = "4917012347001";
const BOB = "4917012347002";
let w: WaWorld;

beforeAll(async () => {
  // 1 MB cap; retries after 300 ms and 600 ms instead of 2 s, 10 s and 30 s.
  const port = String(await freePort());
  const env = { WAHOOK_MEDIA_MAX_MB: "1", WAHOOK_PORT: port, WAHOOK_PUBLIC_URL: `http://127.0.0.1:${port}` };
  w = await startWaWorld({ seed: "wa-media", env, daemon: { mediaRetryMs: [300, 600] } });
  await w.webhook();
  await w.pair(OWNER);
}, 30_000);
afterAll(() => w.close());

const body = (r: SinkRequest) => r.json as any;
const find = (id: string) => w.sink.requests.find((r) => body(r).message?.id === id);
const arrival = async (id: string, timeoutMs = 10_000) => {
  await w.sink.waitFor(() => !!find(id), timeoutMs);
  return find(id)!;
};

test("larger than WAHOOK_MEDIA_MAX_MB: delivered at once with file_url null and file_size set; nothing downloaded", async () => {
  const bytes = Buffer.alloc(1_200_000, 7);
  const sent = await w.emu.device(OWNER).sendMedia({ from: ALICE, kind: "document", bytes, fileName: "big.pdf", mimetype: "application/pdf" });
  const got = body(await arrival(sent.id, 5_000));
  expect(got.message).toMatchObject({ type: "pdf", file_name: "big.pdf", file_url: null, file_size: 1_200_000, mime_type: "application/pdf" });
  expect(w.daemon.store.sqlite.query("SELECT status, path FROM media ORDER BY created_at DESC LIMIT 1").get()).toEqual({ status: "too_large", path: null });
});

test("a media host that keeps failing: retried, then delivered with file_url null; another chat never waits, the same chat keeps its order", async () => {
  w.emu.media.unavailable = true;
  try {
    const dev = w.emu.device(OWNER);
    const t0 = Date.now();
    const photo = await dev.sendMedia({ from: ALICE, kind: "image", bytes: Buffer.alloc(2_000, 1), caption: "see this", mimetype: "image/jpeg" });
    const after = await dev.sendText({ from: ALICE, text: "did you see the photo?" });
    const other = await dev.sendText({ from: BOB, text: "meanwhile in another chat" });

    // Bob's chat is not held by Alice's download.
    const bobAt = (await arrival(other.id)).receivedAt;
    expect(find(photo.id)).toBeUndefined();
    expect(bobAt - t0).toBeLessThan(1_000);

    // Three attempts (now, +300 ms, +600 ms), then the photo goes out without a link, and Alice's text after it.
    const photoReq = await arrival(photo.id, 10_000);
    const afterReq = await arrival(after.id, 5_000);
    expect(body(photoReq).message).toMatchObject({ type: "image", caption: "see this", file_url: null, file_size: 2_000 });
    expect(photoReq.receivedAt - t0).toBeGreaterThanOrEqual(800);
    expect(body(afterReq).seq).toBe(body(photoReq).seq + 1);
    expect(w.daemon.store.sqlite.query("SELECT status, attempts FROM media ORDER BY created_at DESC LIMIT 1").get()).toEqual({ status: "failed", attempts: 2 });
  } finally {
    w.emu.media.unavailable = false;
  }
});

test("a media host that fails once: the retry succeeds and the link serves the exact bytes", async () => {
  const bytes = Buffer.from(Array.from({ length: 3_000 }, (_, i) => i & 0xff));
  const latest = () => w.daemon.store.sqlite.query("SELECT status, attempts FROM media ORDER BY created_at DESC LIMIT 1").get();
  w.emu.media.unavailable = true;
  const sent = await w.emu.device(OWNER).sendMedia({ from: ALICE, kind: "image", bytes, mimetype: "image/png" });
  // The first attempt failed and a retry is due (in 300 ms): only now does the host recover.
  await waitUntil(() => Bun.deepEquals(latest(), { status: "pending", attempts: 1 }), 5_000, "the first download failed");
  w.emu.media.unavailable = false;
  const got = body(await arrival(sent.id, 5_000));
  expect(latest()).toEqual({ status: "ready", attempts: 1 });
  expect(got.message.file_url).toStartWith("http");
  const res = await fetch(got.message.file_url);
  expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
});
