import { Elysia } from "elysia";
import { ApiError } from "../../errors.ts";
import { generateKey, insertKey, listKeys, revokeKeepingAnAdmin } from "../../store/apiKeys.ts";
import type { AppDeps } from "../deps.ts";
import { apiKeyOr404 } from "../notFound.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { ApiKey, CreateApiKey, CreatedApiKey, IdParams, PageQuery, errorResponses, page } from "../schemas.ts";
import { apiKeyView } from "../views.ts";

const tags = ["api-keys"];

export function apiKeyRoutes({ store }: AppDeps) {
  return new Elysia({ name: "api-keys", prefix: "/v1/api-keys" })
    .post(
      "/",
      ({ body, set }) => {
        const key = generateKey();
        const row = insertKey(store, key, body.name, body.scope, "api");
        set.status = 201;
        return { ...apiKeyView(row), key };
      },
      {
        body: CreateApiKey,
        response: { 201: CreatedApiKey, ...errorResponses },
        detail: { summary: "Create an API key (the key is shown only in this answer)", tags },
      },
    )
    .get(
      "/",
      ({ query }) => {
        const limit = query.limit ?? DEFAULT_LIMIT;
        return pageOf(listKeys(store, limit + 1, decodeCursor(query.cursor)), limit, apiKeyView);
      },
      {
        query: PageQuery,
        response: { 200: page(ApiKey), ...errorResponses },
        detail: { summary: "List API keys (never the keys themselves)", tags },
      },
    )
    .get(
      "/:id",
      ({ params }) => apiKeyView(apiKeyOr404(store, params.id)),
      { params: IdParams, response: { 200: ApiKey, ...errorResponses }, detail: { summary: "Get one API key", tags } },
    )
    .delete(
      "/:id",
      ({ params }) => {
        const existing = apiKeyOr404(store, params.id);
        if (existing.revokedAt) return apiKeyView(existing);
        // Revoked here, it would be valid again at the next start: the environment names it.
        if (existing.source === "env") throw new ApiError("env_key");
        const row = revokeKeepingAnAdmin(store, existing);
        if (row === "last_admin") throw new ApiError("conflict", "This is the last admin key; create another admin key before revoking it.");
        return apiKeyView(row ?? existing);
      },
      {
        params: IdParams,
        response: { 200: ApiKey, ...errorResponses },
        detail: { summary: "Revoke an API key (it stops working at once; WAHOOK_API_KEY itself cannot be revoked here)", tags },
      },
    );
}
