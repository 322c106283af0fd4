// The admin page in headless Chromium against the compiled binary and the standalone
// emulator: enter the key, link a number with the QR the page shows (scanned only after it
// refreshed at least once), watch it become open, send a message and see the webhook's
// delivered count rise. A screenshot of each step goes to $WAHOOK_SCREENSHOTS (default
// a folder under the system temp directory) for a person to look at.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBrowser, type Page } from "../support/cdp.ts";
import { startRig, type Rig } from "../support/e2e.ts";

const SHOTS = process.env.WAHOOK_SCREENSHOTS ?? join(tmpdir(), "wahook-admin-page");
const PHONE = "15550016001";
let rig: Rig;
let page: Page;
let step = 0;

async function shot(name: string) {
  writeFileSync(join(SHOTS, `${String(++step).padStart(2, "0")}-${name}.png`), await page.screenshot());
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // QRs that live 3 s instead of 60: the page must show the next one by itself.
  rig = await startRig({ env: { WAHOOK_WA_QR_TIMEOUT_S: "3" } });
  await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/crm"), events: ["message.received", "account.status"] });
  await rig.admin("POST", "/devices", { phone: PHONE, pushName: "Shop" });
  page = await openBrowser();
}, 60_000);
afterAll(async () => {
  await page?.close();
  await rig?.close();
});

test("link a number from the admin page and see its messages delivered", async () => {
  await page.goto(`${rig.daemon.url}/`);
  await page.waitFor("document.getElementById('login') && !document.getElementById('login').hidden");
  await shot("enter-key");

  // A wrong key is refused on the page, not silently kept.
  await page.eval(`document.getElementById('key').value = 'whk_not_the_key_0000000000000'; document.getElementById('login-form').requestSubmit()`);
  await page.waitFor("document.getElementById('login-error').textContent.length > 0", 5_000, "the wrong key refused");
  await page.eval(`document.getElementById('key').value = ${JSON.stringify(rig.key)}; document.getElementById('login-form').requestSubmit()`);
  await page.waitFor("!document.getElementById('app').hidden", 5_000, "signed in");
  await page.waitFor("document.querySelector('#webhooks tr[data-webhook]')", 5_000, "the webhook listed");
  await shot("signed-in");

  await page.eval(`document.getElementById('link-name').value = 'Sales'; document.getElementById('link-form').requestSubmit()`);
  await page.waitFor("document.getElementById('qr').dataset.qr", 15_000, "a QR shown");
  const first = await page.eval<string>("document.getElementById('qr').dataset.qr");
  await shot("qr");
  await page.waitFor("Number(document.getElementById('qr').dataset.refreshes) >= 1", 15_000, "the QR refreshed by itself");
  const current = await page.eval<string>("document.getElementById('qr').dataset.qr");
  expect(current).not.toBe(first);
  expect(await page.eval<boolean>("document.getElementById('qr').src.startsWith('data:image/png;base64,')")).toBe(true);
  await shot("qr-refreshed");

  // The phone scans what the page shows now.
  await rig.admin("POST", `/devices/${PHONE}/scan`, { qr: current, pushName: "Shop" });
  await page.waitFor("document.getElementById('pairing-state').dataset.state === 'open'", 20_000, "the page shows open");
  await page.waitFor(`[...document.querySelectorAll('#accounts span[data-state]')].some((s) => s.dataset.state === 'open')`, 10_000, "the list shows open");
  expect(await page.eval<string>("document.getElementById('qr-note').textContent")).toContain(PHONE);
  await shot("open");

  const before = await page.eval<number>("Number(document.querySelector('#webhooks td[data-delivered]').dataset.delivered)");
  await rig.admin("POST", `/devices/${PHONE}/messages`, { kind: "text", from: "15557160001", text: "hello from a customer" });
  await rig.sink.waitFor((rs) => rs.some((r) => (r.json as any)?.message?.text === "hello from a customer"), 10_000);
  await page.waitFor(`Number(document.querySelector('#webhooks td[data-delivered]').dataset.delivered) > ${before}`, 10_000, "the delivered count rose");
  await shot("delivered");
}, 90_000);
