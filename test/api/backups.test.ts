// Backups, storage stats and a full disk as an API client sees them: admin keys only for
// anything about backups (they hold credentials), an archive that can be listed, downloaded
// and deleted, bad names refused with a catalogue code, and while the disk is full, writes
// answered 507 `storage_full`, reads still served, /health degraded with the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { toErrorResponse } from "../../src/api/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { waitUntil } from "../support/wait.ts";

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const FULL = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });

async function makeBackup(): Promise<string> {
  const started = await t.call("POST", "/v1/backups");
  expect(started.status).toBe(202);
  await t.backups.idle();
  return started.body.name as string;
}

describe("who may touch backups", () => {
  const NAME = "wahook-2026-01-01T00-00-00-000Z.tar.gz";
  const scenarios: [string, string, "admin" | "read", number, string | null][] = [
    ["POST", "/v1/backups", "read", 403, "forbidden"],
    ["GET", "/v1/backups", "read", 403, "forbidden"],
    ["GET", `/v1/backups/${NAME}`, "read", 403, "forbidden"],
    ["DELETE", `/v1/backups/${NAME}`, "read", 403, "forbidden"],
    ["GET", `/v1/backups/${NAME}`, "admin", 404, "not_found"],
    ["DELETE", `/v1/backups/${NAME}`, "admin", 404, "not_found"],
    ["GET", "/v1/backups/..%2Fwahook.db", "admin", 422, "validation_failed"],
    ["GET", "/v1/backups/wahook.db", "admin", 422, "validation_failed"],
    ["DELETE", "/v1/backups/wahook-2026-01-01.tar.gz", "admin", 422, "validation_failed"],
    ["GET", "/v1/backups", "admin", 200, null],
  ];
  test.each(scenarios.map(([m, p, scope, status, code]) => [`${m} ${p} with a ${scope} key → ${status} ${code ?? ""}`, m, p, scope, status, code] as const))("%s", async (_name, method, path, scope, status, code) => {
    const res = await t.call(method, path, { key: scope === "admin" ? t.adminKey : t.readKey });
    expect(res.status).toBe(status);
    if (code) expect(res.body.error.code).toBe(code);
    // Reading is refused too, and says why (writes get the general read-scope answer).
    if (code === "forbidden" && method === "GET") expect(res.body.error.message).toContain("credentials");
  });
});

describe("a backup made through the API", () => {
  let name: string;
  beforeAll(async () => {
    await t.call("POST", "/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["message.received"] } });
    name = await makeBackup();
  });

  test("is listed newest first with what it holds", async () => {
    const list = await t.call("GET", "/v1/backups");
    expect(list.status).toBe(200);
    expect(list.body.running).toBeNull();
    expect(list.body.last_failure).toBeNull();
    const b = list.body.data[0];
    expect(b).toMatchObject({ name, auto: false, local: true, s3_key: null });
    expect(b.manifest.schema_migration).toMatch(/^\d{4}_/);
    expect(b.manifest.counts.rows.settings).toMatchObject({ webhooks: 1, api_keys: 2 });
    expect(b.manifest.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  test("is owner-only on disk and downloads byte for byte", async () => {
    const file = join(t.config.backup.dir, name);
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600");
    const res = await t.app.handle(new Request(`http://localhost/v1/backups/${name}`, { headers: { authorization: `Bearer ${t.adminKey}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${name}"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(file))).toBe(true);
  });

  test("a second one while one runs: 409 backup_running", async () => {
    const first = await t.call("POST", "/v1/backups");
    const second = await t.call("POST", "/v1/backups");
    expect(first.status).toBe(202);
    expect([second.status, second.body.error.code]).toEqual([409, "backup_running"]);
    expect((await t.call("GET", "/v1/backups")).body.running?.name).toBe(first.body.name);
    await t.backups.idle();
  });

  test("DELETE removes it: 204, then 404", async () => {
    expect((await t.call("DELETE", `/v1/backups/${name}`)).status).toBe(204);
    expect((await t.call("GET", `/v1/backups/${name}`)).status).toBe(404);
    expect((await t.call("GET", "/v1/backups")).body.data.map((b: { name: string }) => b.name)).not.toContain(name);
  });
});

describe("GET /v1/stats", () => {
  test("database and media sizes, free disk, rows per table family, retention settings", async () => {
    const res = await t.call("GET", "/v1/stats");
    expect(res.status).toBe(200);
    expect(res.body.storage).toMatchObject({ status: "ok", reason: null });
    expect(res.body.storage.disk_free_bytes).toBeGreaterThan(0);
    expect(res.body.database.bytes).toBeGreaterThan(0);
    expect(res.body.media).toMatchObject({ bytes: 0, files: 0 });
    expect(Object.keys(res.body.rows).sort()).toEqual(["backfills", "messages", "queue", "settings", "whatsapp"]);
    expect(res.body.rows.messages).toMatchObject({ messages: 0, media: 0 });
    expect(res.body.retention).toEqual({ delivered_days: 30, dead_letter_days: null, message_days: null, media_ttl_days: 7 });
  });

  test("needs a key; a read key may look", async () => {
    expect((await t.call("GET", "/v1/stats", { key: null })).status).toBe(401);
    expect((await t.call("GET", "/v1/stats", { key: t.readKey })).status).toBe(200);
  });
});

describe("a full disk", () => {
  test("writes answer 507 storage_full, reads work, /health is degraded with the reason; all clear once a write works again", async () => {
    t.storage.report(FULL);
    const write = await t.call("POST", "/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["message.received"] } });
    expect([write.status, write.body.error.code]).toEqual([507, "storage_full"]);
    expect(write.body.error.message).toContain("Free space");
    expect((await t.call("GET", "/v1/webhooks")).status).toBe(200);
    const health = await t.call("GET", "/health", { key: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: "degraded", database: "full" });
    expect(health.body.reason).toContain("full");
    expect((await t.call("GET", "/v1/stats")).body.storage.status).toBe("full");
    // Deleting a backup may be what frees space: it is let through.
    expect((await t.call("DELETE", "/v1/backups/wahook-2026-01-01T00-00-00-000Z.tar.gz")).status).toBe(404);
    // The probe finds that writes work here (the disk is not really full) and clears it.
    await waitUntil(async () => (await t.call("GET", "/health", { key: null })).status === 200, 3_000, "health ok again");
    expect((await t.call("POST", "/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["message.received"] } })).status).toBe(201);
  });

  test("a write the database refuses for lack of space answers 507, not 500", async () => {
    const res = toErrorResponse(FULL, "UNKNOWN", silentLogger, new Request("http://localhost/v1/webhooks", { method: "POST" }), "/v1/webhooks");
    expect(res.status).toBe(507);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("storage_full");
  });
});

describe("POST /v1/backups takes no options", () => {
  test.each([
    ["a string", '"x"'],
    ["null", "null"],
    ["an array", "[]"],
    ["an unknown field", '{"full":true}'],
  ])("a body of %s: 422 validation_failed, no backup started", async (_name, rawBody) => {
    const res = await t.call("POST", "/v1/backups", { rawBody, headers: { "content-type": "application/json" } });
    expect([res.status, res.body.error.code]).toEqual([422, "validation_failed"]);
    expect(t.backups.running).toBeNull();
  });

  test("no body, or {}: started", async () => {
    expect((await t.call("POST", "/v1/backups")).status).toBe(202);
    await t.backups.idle();
    expect((await t.call("POST", "/v1/backups", { body: {} })).status).toBe(202);
    await t.backups.idle();
  });
});
