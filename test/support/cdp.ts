// Headless Chromium driven over the DevTools protocol, just enough for page tests: open a
// page, run JavaScript in it, wait for a condition, take a screenshot. Debian's chromium
// and Bun's WebSocket; no browser download, no driver package.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/**
 * Headless, sandbox-free, and quiet on a closed network: no first-run UI, no update or sync
 * traffic that this machine would refuse, many at a time.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface Page {
  goto(url: string): Promise<void>;
  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  eval<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy. */
  waitFor(expression: string, timeoutMs?: number, what?: string): Promise<void>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Page> {
  if (!CHROMIUM) throw new Error("Chromium is needed for this check: apt-get install -y chromium (Debian), or run .ci/run which installs it");
  const profile = mkdtempSync(join(tmpdir(), "wahook-chromium-"));
  const proc: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn(
    [
      CHROMIUM,
      ...CHROMIUM_FLAGS,
      "--window-size=1200,1000",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const endpoint = await devtoolsEndpoint(proc);
  const ws = new WebSocket(endpoint);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("could not reach Chromium's DevTools"));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new Error(msg.error.message));
    else p?.resolve(msg.result);
  };
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method: string, params: object = {}) => send(method, params, sessionId);
  await page("Page.enable");
  await page("Runtime.enable");

  const evaluate = async <T>(expression: string): Promise<T> => {
    const { result, exceptionDetails } = await page("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  };
  const waitFor = async (expression: string, timeoutMs = 10_000, what = expression) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (await evaluate<boolean>(`Boolean(${expression})`).catch(() => false)) return;
      if (Date.now() > until) throw new Error(`${what}: not true within ${timeoutMs} ms`);
      await Bun.sleep(100);
    }
  };
  return {
    async goto(url) {
      await page("Page.navigate", { url });
      await waitFor("document.readyState === 'complete'", 10_000, `${url} loaded`);
    },
    eval: evaluate,
    waitFor,
    async screenshot() {
      const { data } = await page("Page.captureScreenshot", { format: "png" });
      return Buffer.from(data, "base64");
    },
    async close() {
      ws.close();
      proc.kill();
      await proc.exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Chromium prints where its DevTools listen on stderr once it is up. */
async function devtoolsEndpoint(proc: Subprocess<"ignore", "ignore", "pipe">): Promise<string> {
  const reader = proc.stderr.getReader();
  let text = "";
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    const found = /DevTools listening on (ws:\/\/\S+)/.exec(text);
    if (found) {
      // Keep draining stderr so Chromium never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done);
      })();
      return found[1]!;
    }
  }
  throw new Error(`Chromium did not start: ${text.slice(0, 500)}`);
}
