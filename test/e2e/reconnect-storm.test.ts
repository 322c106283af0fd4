// A reconnect storm against the compiled binary: 100 paired accounts, then the emulator
// drops every connection at once. All of them come back within the window, each device
// logs in exactly once more (no account reconnects twice), the API keeps answering while
// they do, and the log says so in one line instead of two hundred.
// (bench/accounts.ts measures the same at 400 and 800 accounts.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startRig, type Rig } from "../support/e2e.ts";
import { accountStates, collectLog, loginsByPhone, pairMany } from "../support/many.ts";
import { waitUntil } from "../support/wait.ts";

const ACCOUNTS = 100;
/** 100 handshakes of ~20 ms CPU each, 8 at a time on 2 shared cores: seconds; a minute is generous. */
const WINDOW_MS = 60_000;
/** Not a performance target (bench/accounts.ts has that): the API must not stall for seconds. */
const RESPONSIVE_MS = 1_000;

let rig: Rig;
let ids: string[];
let phones: string[];
let log: Record<string, any>[];
beforeAll(async () => {
  rig = await startRig({ env: { WAHOOK_LOG_LEVEL: "info" } });
  log = collectLog(rig);
  ({ ids, phones } = await pairMany(rig, ACCOUNTS, { concurrency: 8 }));
}, 120_000);
afterAll(() => rig.close());

test(`${ACCOUNTS} accounts dropped at once: all back within the window, each exactly once, the API responsive throughout`, async () => {
  const before = await loginsByPhone(rig);
  for (const phone of phones) expect(before.get(phone)).toBe(1);
  log.length = 0;

  // The API, one request after another, all through the storm.
  const times: number[] = [];
  let probing = true;
  const probe = (async () => {
    for (let i = 0; probing; i++) {
      const path = i % 2 ? "/health" : `/v1/accounts/${ids[i % ids.length]}`;
      const t0 = performance.now();
      const res = await rig.api("GET", path);
      times.push(performance.now() - t0);
      expect(res.status).toBe(200);
      await Bun.sleep(10);
    }
  })();

  const t0 = performance.now();
  await rig.admin("POST", "/faults", { type: "drop" });
  // While they wait for their turn the accounts say so (not the `open` of a dead socket).
  await waitUntil(async () => (await accountStates(rig)).some((a) => a.state === "reconnecting"), 5_000, "accounts shown reconnecting", 20);
  let logins = before;
  await waitUntil(
    async () => {
      logins = await loginsByPhone(rig);
      return phones.every((p) => logins.get(p)! > before.get(p)!) && (await accountStates(rig)).every((a) => a.state === "open");
    },
    WINDOW_MS,
    "every account back",
    100,
  );
  const backMs = performance.now() - t0;
  probing = false;
  await probe;

  // A little longer: a second reconnect of anyone would show now.
  await Bun.sleep(1_500);
  logins = await loginsByPhone(rig);
  expect(phones.filter((p) => logins.get(p) !== 2)).toEqual([]);
  expect((await accountStates(rig)).filter((a) => a.state !== "open")).toEqual([]);

  times.sort((a, b) => a - b);
  expect(times.length).toBeGreaterThan(20);
  expect(times.at(-1)!).toBeLessThan(RESPONSIVE_MS);

  // One line for the lot; nothing at warn or error for what is routine.
  expect(log.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
  const summary = log.filter((l) => l.msg === "accounts connected");
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatchObject({ level: "info", accounts: ACCOUNTS });
  expect(log.filter((l) => l.level === "info").length).toBeLessThan(5);
  console.log(JSON.stringify({ back_ms: Math.round(backMs), api_requests: times.length, api_max_ms: +times.at(-1)!.toFixed(1) }));
}, WINDOW_MS + 30_000);
