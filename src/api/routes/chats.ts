// Chats of an account and their stored messages: what history sync brought and what a
// backfill would send.
import { Elysia } from "elysia";
import { ApiError } from "../../errors.ts";
import { chatMessages, knownChats, listChats } from "../../store/chats.ts";
import type { AppDeps } from "../deps.ts";
import { accountOr404 } from "../notFound.ts";
import { Chat, ChatMessagesQuery, ChatParams, StoredMessage } from "../historySchemas.ts";
import { DEFAULT_LIMIT, pageOf } from "../pagination.ts";
import { IdParams, PageQuery, errorResponses, page } from "../schemas.ts";
import { parseRange } from "../time.ts";
import { chatView, storedMessageView } from "../views.ts";

const tags = ["chats"];

/** Cursors here are positions, not ids: the last item's sort key (see pageOf). */
function decode(cursor: string | undefined, form: RegExp): RegExpExecArray | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  const match = form.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new ApiError("invalid_cursor");
  return match;
}

export function chatRoutes({ store }: AppDeps) {

  return new Elysia({ name: "chats", prefix: "/v1/accounts/:id/chats" })
    .get(
      "/",
      ({ params, query }) => {
        accountOr404(store, params.id);
        const limit = query.limit ?? DEFAULT_LIMIT;
        const after = decode(query.cursor, /^chat:(.+)$/)?.[1];
        return pageOf(listChats(store, params.id, limit + 1, after), limit, chatView, (r) => `chat:${r.chat_id}`);
      },
      {
        params: IdParams,
        query: PageQuery,
        response: { 200: page(Chat), ...errorResponses },
        detail: { summary: "Chats with stored messages: title, type, message count, last message time", tags },
      },
    )
    .get(
      "/:chat_id/messages",
      ({ params, query }) => {
        accountOr404(store, params.id);
        const chatId = decodeURIComponent(params.chat_id);
        if (!knownChats(store, params.id, [chatId]).size) throw new ApiError("not_found", `No stored messages in chat ${chatId}; see GET /v1/accounts/${params.id}/chats.`);
        const limit = query.limit ?? DEFAULT_LIMIT;
        const order = query.order ?? "asc";
        const { since, until } = parseRange(query.since, query.until, "query");
        const at = decode(query.cursor, /^msg:(-?\d+):(\d+)$/);
        const rows = chatMessages(store, params.id, chatId, {
          since: since === undefined ? undefined : Math.floor(since / 1000),
          until: until === undefined ? undefined : Math.floor(until / 1000),
          after: at ? { timestamp: Number(at[1]), rowid: Number(at[2]) } : undefined,
          order,
          limit: limit + 1,
        });
        return pageOf(rows, limit, (r) => storedMessageView(r.message), (r) => `msg:${r.timestamp}:${r.rowid}`);
      },
      {
        params: ChatParams,
        query: ChatMessagesQuery,
        response: { 200: page(StoredMessage), ...errorResponses },
        detail: { summary: "Stored messages of one chat, oldest first (the order a backfill sends them in)", tags },
      },
    );
}
