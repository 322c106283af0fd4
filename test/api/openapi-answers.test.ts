// The OpenAPI document says what the server really does: every example fits the schema it
// illustrates, every status an operation answers is documented for it (with that very
// error as its example), files are documented as files, and the big files of Swagger UI
// go out compressed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync } from "node:zlib";
import { signMediaToken } from "../../src/mediaToken.ts";
import { insertAccount } from "../../src/store/accounts.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { validate } from "../support/jsonSchema.ts";

type Schema = Record<string, any>;
type Operation = { parameters?: { name: string; in: string; schema: Schema }[]; requestBody?: { content?: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema?: Schema; example?: any }> }> };

let t: TestApp;
let spec: any;
let operations: { name: string; path: string; method: string; op: Operation }[];
beforeAll(async () => {
  t = startTestApp();
  spec = (await t.call("GET", "/swagger/json", { key: null })).body;
  operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method: method.toUpperCase(), op })),
  );
});
afterAll(() => t.close());

/** Every schema in an operation with the examples written into it, wherever they sit. */
function examplesOf(schema: Schema | undefined, where: string, out: { where: string; schema: Schema; example: unknown }[]) {
  if (!schema || typeof schema !== "object") return;
  for (const example of schema.examples ?? []) out.push({ where, schema, example });
  for (const key of ["properties", "patternProperties"]) for (const [name, s] of Object.entries(schema[key] ?? {})) examplesOf(s as Schema, `${where}.${name}`, out);
  for (const key of ["anyOf", "oneOf", "allOf"]) (schema[key] ?? []).forEach((s: Schema) => examplesOf(s, where, out));
  examplesOf(schema.items, `${where}[]`, out);
  if (typeof schema.additionalProperties === "object") examplesOf(schema.additionalProperties, `${where}.*`, out);
}

test("every example in the document fits the schema it illustrates", () => {
  const found: { where: string; schema: Schema; example: unknown }[] = [];
  for (const { name, op } of operations) {
    for (const p of op.parameters ?? []) examplesOf(p.schema, `${name} ${p.in}.${p.name}`, found);
    for (const [type, c] of Object.entries(op.requestBody?.content ?? {})) examplesOf(c.schema, `${name} body ${type}`, found);
    for (const [status, r] of Object.entries(op.responses)) {
      for (const [type, c] of Object.entries(r.content ?? {})) {
        examplesOf(c.schema, `${name} ${status} ${type}`, found);
        if (c.example !== undefined && c.schema) found.push({ where: `${name} ${status} ${type} (example)`, schema: c.schema, example: c.example });
      }
    }
  }
  expect(found.length).toBeGreaterThan(300);
  const problems = found.flatMap(({ where, schema, example }) => validate(schema, example, spec).map((e) => `${where}: ${e}`));
  expect(problems).toEqual([]);
});

// The QR and the pairing code as Baileys makes them (test/wa/accounts.test.ts gets real ones
// through the emulator and checks them against the same schemas).
test.each([
  ["GET /v1/accounts/{id}/qr", "qr", "https://wa.me/settings/linked_devices#2@AbCd,XyZ", "2@AbCd…,XyZ…"],
  ["POST /v1/accounts/{id}/pairing-code", "code", "J89R8NFQ", "ABCD-EFGH"],
])("%s: the documented form of `%s` takes what Baileys gives and refuses what it never gives", (name, field, real, never) => {
  const schema = operations.find((o) => o.name === name)!.op.responses["200"]!.content!["application/json"]!.schema!;
  expect(validate(schema.properties[field], real, spec)).toEqual([]);
  expect(validate(schema.properties[field], never, spec)).not.toEqual([]);
});

describe("statuses", () => {
  const FAKE_ID = "x_06H0TK2F3M4PQ9QXCGMARXVFNB";
  const exampleBody = (op: Operation) => op.requestBody?.content?.["application/json"]?.schema?.examples?.[0] ?? {};
  const documented = (op: Operation, status: number) => String(status) in op.responses;
  const exampleCode = (op: Operation, status: number) => op.responses[String(status)]?.content?.["application/json"]?.example?.error?.code;

  type Sent = { status: number; body: any };
  type Scenario = { name: string; applies(o: (typeof operations)[number]): boolean; send(o: (typeof operations)[number], url: string): Promise<Sent>; example?: true };
  const writes = (o: { method: string }) => !["GET", "HEAD", "OPTIONS"].includes(o.method);
  const needsKey = (o: { op: Operation }) => (o.op as { security?: unknown[] }).security?.length !== 0;
  const raw = async (method: string, url: string, body: string, type: string) =>
    t.call(method, url, { rawBody: body, headers: { "content-type": type } });
  const scenarios: Scenario[] = [
    { name: "no key", applies: needsKey, send: (o, url) => t.call(o.method, url, { key: null }), example: true },
    { name: "a read key", applies: (o) => writes(o) && needsKey(o), send: (o, url) => t.call(o.method, url, { key: t.readKey, body: o.op.requestBody ? exampleBody(o.op) : undefined }), example: true },
    { name: "the documented example", applies: () => true, send: (o, url) => t.call(o.method, url, { body: o.op.requestBody ? exampleBody(o.op) : undefined }) },
    { name: "an empty object", applies: (o) => !!o.op.requestBody, send: (o, url) => t.call(o.method, url, { body: {} }) },
    { name: "broken JSON", applies: (o) => !!o.op.requestBody, send: (o, url) => raw(o.method, url, '{"url": ', "application/json"), example: true },
    { name: "a form instead of JSON", applies: (o) => !!o.op.requestBody, send: (o, url) => raw(o.method, url, "url=x", "application/x-www-form-urlencoded"), example: true },
    { name: "a body over 1 MiB", applies: (o) => !!o.op.requestBody, send: (o, url) => raw(o.method, url, `{"x":"${"a".repeat(1_100_000)}"}`, "application/json"), example: true },
  ];

  test("every status an operation answers is documented for it, with an example of that answer", async () => {
    const problems: string[] = [];
    let tried = 0;
    for (const o of operations) {
      const url = o.path.replace(/\{[^}]+\}/g, FAKE_ID);
      for (const s of scenarios.filter((s) => s.applies(o))) {
        const res = await s.send(o, url);
        tried++;
        if (!documented(o.op, res.status)) problems.push(`${o.name} with ${s.name}: answered ${res.status}, not documented`);
        else if (s.example && res.body?.error?.code !== exampleCode(o.op, res.status)) {
          problems.push(`${o.name} with ${s.name}: answered ${res.body?.error?.code}, documented example ${exampleCode(o.op, res.status)}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  }, 60_000);

  test("while the disk is full, every write answers 507 and says so in the document", async () => {
    const full = startTestApp();
    full.storage.report(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }));
    try {
      const problems: string[] = [];
      for (const o of operations.filter(writes)) {
        const res = await full.call(o.method, o.path.replace(/\{[^}]+\}/g, FAKE_ID), { body: o.op.requestBody ? exampleBody(o.op) : undefined });
        if (res.status === 507 && exampleCode(o.op, 507) !== "storage_full") problems.push(`${o.name}: answered 507, not documented with storage_full`);
        if (res.status !== 507 && documented(o.op, 507)) problems.push(`${o.name}: answered ${res.status}, yet documents 507`);
      }
      expect(problems).toEqual([]);
    } finally {
      await full.close();
    }
  });

  test.each([
    ["GET", "/v1/accounts/{id}/qr", 503, "qr_unavailable"],
    ["GET", "/v1/accounts/{id}/qr.png", 503, "qr_unavailable"],
    ["POST", "/v1/accounts/{id}/pairing-code", 503, "qr_unavailable"],
  ] as const)("%s %s before WhatsApp offers a QR: %d, documented", async (method, path, status, code) => {
    const account = insertAccount(t.deps.store, { name: "Sales", email: null });
    const op = operations.find((o) => o.name === `${method} ${path}`)!.op;
    const res = await t.call(method, path.replace("{id}", account.id), { body: op.requestBody ? exampleBody(op) : undefined });
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status, code });
    expect(documented(op, status)).toBe(true);
  });

  test.each([
    ["an expired link", (): string => signMediaToken(t.deps.media.key, "med_06H0TKA0J5W8Q2M4N6P8R0T2V4", Date.now() - 1000), 410, "media_link_expired"],
    ["a forged link", (): string => "med_06H0TKA0J5W8Q2M4N6P8R0T2V4.1796124000.forged", 404, "media_link_invalid"],
  ] as const)("a media download with %s: its status is documented", async (_name, token, status, code) => {
    const res = await t.call("GET", `/v1/media/${token()}`, { key: null });
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status, code });
    expect(documented(operations.find((o) => o.name === "GET /v1/media/{token}")!.op, status)).toBe(true);
  });
});

test("files are documented as files: the QR as image/png, media as whatever it is; a 204 has no body", () => {
  const content = (name: string, status: string) => Object.keys(operations.find((o) => o.name === name)!.op.responses[status]!.content ?? {});
  expect(content("GET /v1/accounts/{id}/qr.png", "200")).toEqual(["image/png"]);
  expect(content("GET /v1/media/{token}", "200")).toEqual(["*/*"]);
  const noContent = operations.filter((o) => o.op.responses["204"]);
  expect(noContent.length).toBeGreaterThan(1);
  expect(noContent.filter((o) => o.op.responses["204"]!.content).map((o) => o.name)).toEqual([]);
});

describe("Swagger UI's files and the OpenAPI document go out compressed", () => {
  const get = (path: string, acceptEncoding?: string) =>
    t.app.handle(new Request(`http://localhost${path}`, { headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} }));

  test.each(["/swagger/assets/swagger-ui-bundle.js", "/swagger/assets/swagger-ui.css", "/swagger/json"])("%s: brotli or gzip as the browser accepts, the same bytes once unpacked", async (path) => {
    const plain = new Uint8Array(await (await get(path)).arrayBuffer());
    expect(plain.length).toBeGreaterThan(100_000);
    for (const [accept, encoding] of [
      ["gzip, deflate, br, zstd", "br"],
      ["gzip, deflate", "gzip"],
      ["br;q=0, gzip;q=0.5", "gzip"],
      ["identity", null],
      [undefined, null],
    ] as const) {
      const res = await get(path, accept);
      expect({ accept, status: res.status, encoding: res.headers.get("content-encoding") }).toEqual({ accept, status: 200, encoding });
      expect(res.headers.get("vary")).toBe("accept-encoding");
      const body = new Uint8Array(await res.arrayBuffer());
      const unpacked = encoding === "br" ? brotliDecompressSync(body) : encoding === "gzip" ? Bun.gunzipSync(body) : body;
      expect(Buffer.from(unpacked).equals(Buffer.from(plain))).toBe(true);
      if (encoding) expect(body.length).toBeLessThan(plain.length * 0.3);
    }
  });
});

test("/favicon.ico: a small icon, without a key", async () => {
  const res = await t.app.handle(new Request("http://localhost/favicon.ico"));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("image/x-icon");
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
  expect(bytes.length).toBeLessThan(2048);
});
