// Pairing through the API exactly as an admin would, against the loopback emulator.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startWaWorld, type WaWorld } from "../support/wa.ts";

let w: WaWorld;
beforeAll(async () => {
  w = await startWaWorld({ seed: "wa-pairing" });
});
afterAll(() => w.close());

test("create → QR from the API → the phone scans it → open with the phone filled in", async () => {
  const created = await w.api("POST", "/v1/accounts", { name: "Sales", email: "sales@example.com" });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: "Sales", email: "sales@example.com", phone: null });
  const id = created.body.id;
  const qr = await w.api("GET", `/v1/accounts/${id}/qr`);
  expect(qr.status).toBe(200);
  expect(qr.body.qr).toMatch(/,/);
  expect(qr.body.png_data_url).toStartWith("data:image/png;base64,");
  expect(Date.parse(qr.body.expires_at)).toBeGreaterThan(Date.now());
  expect((await w.account(id)).state).toBe("pairing");

  const png = await fetch(`http://127.0.0.1:${w.daemon.port}/v1/accounts/${id}/qr.png`, { headers: { authorization: `Bearer ${"test-admin-key-0123456789abcdef"}` } });
  expect(png.status).toBe(200);
  expect(png.headers.get("content-type")).toBe("image/png");
  expect([...new Uint8Array(await png.arrayBuffer()).slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

  w.emu.scanQr(qr.body.qr, { phone: "15550001001", pushName: "Sales Phone" });
  await w.waitState(id, "open", 15_000);
  const account = await w.account(id);
  expect(account).toMatchObject({ state: "open", phone: "15550001001", last_disconnect: { code: 515 } });

  const again = await w.api("GET", `/v1/accounts/${id}/qr`);
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe("account_open");
});
