// Linked WhatsApp accounts: create (pairing starts at once), list, get, QR (JSON and PNG),
// pairing code, logout, restart, delete.
import { Elysia, t } from "elysia";
import { ApiError } from "../../errors.ts";
import { getAccount, listAccounts, type AccountRow } from "../../store/accounts.ts";
import type { AppDeps } from "../app.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { Account, AccountQr, CreateAccount, DeleteAccountQuery, IdParams, PageQuery, PairingCode, PairingCodeBody, errorResponses, page } from "../schemas.ts";
import { accountView } from "../views.ts";

const tags = ["accounts"];

/** "+49 170 123-4567" → "491701234567"; WhatsApp numbers have 7 to 15 digits. */
function phoneDigits(raw: string): string {
  const digits = raw.replace(/\D/g, "");
  if (digits.length < 7 || digits.length > 15) {
    const message = `body.phone: '${raw}' has ${digits.length} digits; give the full international number (7-15 digits, country code first).`;
    throw new ApiError("validation_failed", message, [{ field: "body.phone", message: "Expected 7-15 digits" }]);
  }
  return digits;
}

export function accountRoutes({ store, accounts }: AppDeps) {
  const { db } = store;

  function mustGet(id: string): AccountRow {
    const row = getAccount(db, id);
    if (!row) throw new ApiError("not_found", `No account ${id}.`);
    return row;
  }

  return new Elysia({ name: "accounts", prefix: "/v1/accounts" })
    .post(
      "/",
      async ({ body, set }) => {
        set.status = 201;
        return accountView(await accounts.create(body.name, body.email ?? null));
      },
      {
        body: CreateAccount,
        response: { 201: Account, ...errorResponses },
        detail: { summary: "Link a WhatsApp number: creates the account and starts pairing (then GET its QR)", tags },
      },
    )
    .get(
      "/",
      ({ query }) => {
        const limit = query.limit ?? DEFAULT_LIMIT;
        return pageOf(listAccounts(db, limit + 1, decodeCursor(query.cursor)), limit, accountView);
      },
      { query: PageQuery, response: { 200: page(Account), ...errorResponses }, detail: { summary: "List accounts with their connection state", tags } },
    )
    .get("/:id", ({ params }) => accountView(mustGet(params.id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Get an account: state, phone, last disconnect", tags },
    })
    .get("/:id/qr", ({ params }) => accounts.qr(mustGet(params.id).id), {
      params: IdParams,
      response: { 200: AccountQr, ...errorResponses },
      detail: {
        summary: "The current pairing QR (starts pairing if needed); scan it in WhatsApp → Linked devices",
        description: "A new QR replaces the old one every 20 s (the first lasts 60 s); fetch again after `expires_at`. 409 when the account is already open.",
        tags,
      },
    })
    .get(
      "/:id/qr.png",
      async ({ params }) => {
        const qr = await accounts.qr(mustGet(params.id).id);
        return new Response(Buffer.from(qr.png_data_url.split(",")[1]!, "base64"), { headers: { "content-type": "image/png", "cache-control": "no-store" } });
      },
      {
        params: IdParams,
        response: { 200: t.Any({ description: "PNG image of the QR." }), ...errorResponses },
        detail: { summary: "The current pairing QR as a PNG image", tags },
      },
    )
    .post(
      "/:id/pairing-code",
      async ({ params, body }) => {
        mustGet(params.id);
        return accounts.pairingCode(params.id, phoneDigits(body.phone));
      },
      {
        params: IdParams,
        body: PairingCodeBody,
        response: { 200: PairingCode, ...errorResponses },
        detail: { summary: "Pair with an 8-character code instead of a QR (for a phone without a camera at hand)", tags },
      },
    )
    .post("/:id/logout", async ({ params }) => accountView(await accounts.logout(mustGet(params.id).id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Log out: the phone loses this linked device; credentials are wiped (pair again with GET …/qr)", tags },
    })
    .post("/:id/restart", async ({ params }) => accountView(await accounts.restart(mustGet(params.id).id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Reconnect now (also takes a session back after `conflict`)", tags },
    })
    .delete(
      "/:id",
      async ({ params, query, set }) => {
        await accounts.remove(mustGet(params.id).id, query.purge === true);
        set.status = 204;
        return null;
      },
      {
        params: IdParams,
        query: DeleteAccountQuery,
        response: { 204: t.Null(), ...errorResponses },
        detail: {
          summary: "Delete an account and its credentials (its stored messages too with ?purge=true)",
          description: "A connected account is logged out first, so the phone no longer lists it under Linked devices.",
          tags,
        },
      },
    );
}
