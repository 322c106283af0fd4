// Linked WhatsApp accounts: create (pairing starts at once), list, get, QR (JSON and PNG),
// pairing code, logout, restart, delete.
import { Elysia, t } from "elysia";
import { ApiError } from "../../errors.ts";
import { getAccount, listAccounts, type AccountRow } from "../../store/accounts.ts";
import type { AppDeps } from "../deps.ts";
import { accountOr404 } from "../notFound.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { Account, AccountQr, CreateAccount, DeleteAccountQuery, ErrorBody, IdParams, PageQuery, PairingCode, PairingCodeBody, errorResponses, page } from "../schemas.ts";
import { eventStream } from "../sse.ts";
import { accountView } from "../views.ts";

const tags = ["accounts"];

/** What a QR or a pairing code answers while there is no connection to pair through. */
const NO_PAIRING_YET = {
  503: {
    description:
      "No QR or code to offer: `qr_unavailable` (the connection to WhatsApp is still starting: try again in a few seconds), `whatsapp_unreachable` (run `wahook doctor`) or `resource_limit`.",
  },
};

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

  const view = (row: AccountRow) => accountView(row, accounts.problem(row.id));

  return new Elysia({ name: "accounts", prefix: "/v1/accounts" })
    .post(
      "/",
      async ({ body, set }) => {
        set.status = 201;
        return view(await accounts.create(body.name, body.email ?? null));
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
        return pageOf(listAccounts(store, limit + 1, decodeCursor(query.cursor)), limit, view);
      },
      { query: PageQuery, response: { 200: page(Account), ...errorResponses }, detail: { summary: "List accounts with their connection state", tags } },
    )
    .get("/:id", ({ params }) => view(accountOr404(store, params.id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Get an account: state, phone, last disconnect", tags },
    })
    .get(
      "/:id/events",
      ({ params, request }) => {
        const id = accountOr404(store, params.id).id;
        return eventStream(request.signal, (send) => {
          let lastAccount = "";
          let lastQr: string | null | undefined;
          // What changed since the last event, in order (pushes are chained: QR images render asynchronously).
          const push = async () => {
            const row = getAccount(store, id);
            if (!row) return;
            const account = view(row);
            const text = JSON.stringify(account);
            if (text !== lastAccount) send("account", account);
            lastAccount = text;
            const qr = await accounts.currentQr(id);
            if ((qr?.qr ?? null) !== lastQr) send("qr", qr);
            lastQr = qr?.qr ?? null;
          };
          let chain = push();
          return accounts.watch(id, () => {
            chain = chain.then(push);
          });
        });
      },
      {
        params: IdParams,
        response: {
          200: t.String({
            description:
              "`text/event-stream`: `event: account` with the account (as GET /v1/accounts/{id}) whenever it changes, and `event: qr` with the QR on offer (as GET …/qr, or null once it is gone) whenever it changes; both at once on connect. Read it with fetch and the API key header (EventSource cannot send one).",
            examples: ['event: account\ndata: {"id":"acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9","state":"pairing",…}\n\nevent: qr\ndata: {"qr":"https://wa.me/settings/linked_devices#2@…","expires_at":"2026-11-24T10:01:00.000Z","png_data_url":"data:image/png;base64,…"}\n\n'],
          }),
          ...errorResponses,
        },
        detail: {
          summary: "Live state of an account: state changes and each new pairing QR, as server-sent events",
          tags,
          responses: { 200: { description: "An event stream that stays open.", content: { "text/event-stream": { schema: { type: "string" } } } } },
        },
      },
    )
    .get("/:id/qr", ({ params }) => accounts.qr(accountOr404(store, params.id).id), {
      params: IdParams,
      response: { 200: AccountQr, ...errorResponses, 503: ErrorBody },
      detail: {
        summary: "The current pairing QR (starts pairing if needed); scan it in WhatsApp → Linked devices",
        description: "A new QR replaces the old one every 20 s (the first lasts 60 s); fetch again after `expires_at`. 409 when the account is already open.",
        tags,
        responses: NO_PAIRING_YET,
      },
    })
    .get(
      "/:id/qr.png",
      async ({ params }) => {
        const qr = await accounts.qr(accountOr404(store, params.id).id);
        return new Response(Buffer.from(qr.png_data_url.split(",")[1]!, "base64"), { headers: { "content-type": "image/png", "cache-control": "no-store" } });
      },
      {
        params: IdParams,
        response: { 200: t.Any({ description: "PNG image of the QR." }), ...errorResponses, 503: ErrorBody },
        detail: {
          summary: "The current pairing QR as a PNG image",
          tags,
          responses: { 200: { description: "PNG image of the QR.", content: { "image/png": { schema: { type: "string", format: "binary" } } } }, ...NO_PAIRING_YET },
        },
      },
    )
    .post(
      "/:id/pairing-code",
      async ({ params, body }) => {
        accountOr404(store, params.id);
        return accounts.pairingCode(params.id, phoneDigits(body.phone));
      },
      {
        params: IdParams,
        body: PairingCodeBody,
        response: { 200: PairingCode, ...errorResponses, 503: ErrorBody },
        detail: { summary: "Pair with an 8-character code instead of a QR (for a phone without a camera at hand)", tags, responses: NO_PAIRING_YET },
      },
    )
    .post("/:id/logout", async ({ params }) => view(await accounts.logout(accountOr404(store, params.id).id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Log out: the phone loses this linked device; credentials are wiped (pair again with GET …/qr)", tags },
    })
    .post("/:id/restart", async ({ params }) => view(await accounts.restart(accountOr404(store, params.id).id)), {
      params: IdParams,
      response: { 200: Account, ...errorResponses },
      detail: { summary: "Reconnect now (also takes a session back after `conflict`)", tags },
    })
    .delete(
      "/:id",
      async ({ params, query, set }) => {
        await accounts.remove(accountOr404(store, params.id).id, query.purge === true);
        set.status = 204;
        return null;
      },
      {
        params: IdParams,
        query: DeleteAccountQuery,
        response: { 204: t.Null(), ...errorResponses },
        detail: {
          summary: "Delete an account and its credentials (with ?purge=true also its messages, media files and queue)",
          description: "A connected account is logged out first, so the phone no longer lists it under Linked devices.",
          tags,
        },
      },
    );
}
