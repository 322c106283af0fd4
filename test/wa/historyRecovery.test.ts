// A history chunk whose notification the device confirmed but whose download failed (the
// process died, or the media host did not answer) is not lost: its notification is kept
// as a row and the chunk is fetched again at the next login. A link WhatsApp no longer
// serves is given up on, visibly.
import { afterEach, expect, test } from "bun:test";
import type { Server } from "bun";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

const HISTORY = 600;
let world: WaWorld | null = null;
let proxy: Server<undefined> | null = null;
afterEach(async () => {
  await world?.close();
  proxy?.stop(true);
  world = proxy = null;
});

/** The emulator's media host behind a switch: `answer` null passes through, else that status. */
function mediaProxy(target: () => string) {
  const state = { answer: null as number | null, refused: 0 };
  proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      if (state.answer !== null) {
        state.refused++;
        return new Response("no", { status: state.answer });
      }
      return fetch(target() + url.pathname + url.search, { method: request.method, headers: request.headers });
    },
  });
  return { url: `http://127.0.0.1:${proxy.port}`, state };
}

const storedCount = async (w: WaWorld, id: string) => ((await w.api("GET", `/v1/accounts/${id}/chats?limit=100`)).body.data as { message_count: number }[]).reduce((n, c) => n + c.message_count, 0);
const notifications = (w: WaWorld) => w.daemon.store.sqlite.query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM history_notifications").all();

test("chunks whose download failed after their receipt left are fetched again at the next login", async () => {
  let emuMedia = "";
  const media = mediaProxy(() => emuMedia);
  world = await startWaWorld({ history: { enabled: true, messages: HISTORY, chats: 4, chunks: 3 }, env: { WAHOOK_WA_MEDIA_URL: media.url } });
  emuMedia = world.emu.mediaUrl;
  media.state.answer = 503;
  const id = await world.pair("15550012001");
  // The device confirmed every notification, but the chunks behind them could not be fetched.
  await waitUntil(() => notifications(world!).length === 3 && media.state.refused >= 3, 15_000, "three notifications pending");
  expect(await storedCount(world, id)).toBeLessThan(HISTORY);

  media.state.answer = null;
  await world.api("POST", `/v1/accounts/${id}/restart`);
  await waitUntil(async () => (await storedCount(world!, id)) === HISTORY, 15_000, "the whole history stored");
  expect(notifications(world)).toEqual([]);
}, 60_000);

test("a link WhatsApp no longer serves is given up on and stays visible as failed", async () => {
  let emuMedia = "";
  const media = mediaProxy(() => emuMedia);
  world = await startWaWorld({ history: { enabled: true, messages: HISTORY, chats: 4, chunks: 2 }, env: { WAHOOK_WA_MEDIA_URL: media.url } });
  emuMedia = world.emu.mediaUrl;
  media.state.answer = 404;
  const id = await world.pair("15550012002");
  await waitUntil(() => notifications(world!).length === 2, 15_000, "two notifications pending");
  await world.api("POST", `/v1/accounts/${id}/restart`);
  await waitUntil(() => notifications(world!).every((n) => n.state === "failed"), 15_000, "given up on");
  expect(notifications(world).map((n) => n.attempts)).toEqual([1, 1]);
}, 60_000);
