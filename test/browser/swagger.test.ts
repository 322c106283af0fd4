// Swagger UI in a real browser, with no internet: the compiled binary serves every asset
// itself, and headless Chromium renders the operations and the Authorize button.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, startBinary, type RunningBinary } from "../support/binary.ts";
import { CHROMIUM, CHROMIUM_FLAGS } from "../support/cdp.ts";


let running: RunningBinary;
let dir: string;

beforeAll(async () => {
  const made = await binaryInEmptyDir();
  dir = made.dir;
  running = await startBinary(made.exe, dir, { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: "browser-admin-key-0123456789abcd" });
});
afterAll(async () => {
  running?.proc.kill("SIGTERM");
  await running?.proc.exited;
  rmSync(dir, { recursive: true, force: true });
});

test("headless Chromium renders /swagger from the binary alone: operations listed, Authorize button shown", async () => {
  if (!CHROMIUM) throw new Error("Chromium is needed for this check: apt-get install -y chromium (Debian), or run .ci/run which installs it");
  const profile = join(dir, "chromium-profile");
  const proc = Bun.spawn(
    [
      CHROMIUM,
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--virtual-time-budget=15000",
      "--dump-dom",
      `${running.url}/swagger`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const dom = await new Response(proc.stdout).text();
  await proc.exited;
  // Rendered by swagger-ui's JavaScript, not present in the HTML the server sent.
  // (Compared as booleans: a failure would otherwise print the whole DOM.)
  const paths = [...dom.matchAll(/data-path="([^"]+)"/g)].map((m) => m[1]);
  expect(paths).toContain("/v1/webhooks/");
  expect(paths).toContain("/v1/accounts/{id}/qr");
  expect(paths).toContain("/v1/webhooks/{id}/deliveries");
  expect(paths.length).toBeGreaterThan(25);
  expect(/class="[^"]*btn authorize/.test(dom)).toBe(true);
  // Nothing was fetched from a CDN: the page references only our own origin.
  expect(/https?:\/\/(cdn\.jsdelivr|unpkg|cdnjs)/.test(dom)).toBe(false);
}, 60_000);
