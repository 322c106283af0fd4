// What Swagger UI shows for pairing is what an admin gets: the real QR, pairing code and
// account, made by Baileys against the emulator, fit the documented schemas, and each
// documented example has exactly the fields of the real answer.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { validate } from "../support/jsonSchema.ts";
import { startWaWorld, type WaWorld } from "../support/wa.ts";

let w: WaWorld;
let spec: any;
beforeAll(async () => {
  w = await startWaWorld({ seed: "documented-answers" });
  spec = (await w.api("GET", "/swagger/json")).body;
});
afterAll(() => w.close());

const documented = (method: string, path: string, status: string) => spec.paths[path][method].responses[status].content["application/json"].schema;
const requestExample = (method: string, path: string) => spec.paths[path][method].requestBody.content["application/json"].schema.examples[0];

function expectDocumented(method: string, path: string, status: string, real: unknown) {
  const schema = documented(method, path, status);
  expect(validate(schema, real, spec)).toEqual([]);
  expect(Object.keys(schema.examples[0]).sort()).toEqual(Object.keys(real as object).sort());
}

test("creating an account, its QR and a pairing code answer as documented", async () => {
  const created = await w.api("POST", "/v1/accounts", requestExample("post", "/v1/accounts/"));
  expect(created.status).toBe(201);
  expectDocumented("post", "/v1/accounts/", "201", created.body);

  const qr = await w.api("GET", `/v1/accounts/${created.body.id}/qr`);
  expect(qr.status).toBe(200);
  expectDocumented("get", "/v1/accounts/{id}/qr", "200", qr.body);

  const other = await w.api("POST", "/v1/accounts", { name: "By code" });
  const code = await w.api("POST", `/v1/accounts/${other.body.id}/pairing-code`, requestExample("post", "/v1/accounts/{id}/pairing-code"));
  expect(code.status).toBe(200);
  expectDocumented("post", "/v1/accounts/{id}/pairing-code", "200", code.body);
});

test("a paired account answers as documented", async () => {
  const id = await w.pair("491701234567", { pushName: "Example GmbH" });
  expectDocumented("get", "/v1/accounts/{id}", "200", await w.account(id));
});
