// Rows → API objects. Secrets never pass through here: only create and rotate-secret
// add them explicitly. URLs are masked so credentials in them do not leak into listings.
import { ERRORS, unreachableMessage } from "../errors.ts";
import type { Progress } from "../backfill/progress.ts";
import type { EventType, Message } from "../domain.ts";
import type { OlderRow } from "../store/backfillOlder.ts";
import type { BackfillRow } from "../store/backfills.ts";
import type { ChatRow } from "../store/chats.ts";
import type { AccountRow } from "../store/accounts.ts";
import type { ApiKeyRow } from "../store/apiKeys.ts";
import type { AttemptRow, DeliveryRow } from "../store/deliveries.ts";
import type { WebhookRow } from "../store/webhooks.ts";

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined) => (ms == null ? null : iso(ms));

/** The URL for display: the password (or a lone user name, often a token) hidden. */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Nothing unparseable is ever stored; hide it whole rather than guess where secrets are.
    return "[invalid URL]";
  }
  if (parsed.password !== "") parsed.password = "***";
  else if (parsed.username !== "") parsed.username = "***";
  else return url;
  return parsed.href;
}

export function apiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    source: row.source,
    created_at: iso(row.createdAt),
    last_used_at: isoOrNull(row.lastUsedAt),
    revoked_at: isoOrNull(row.revokedAt),
  };
}

export function webhookView(row: WebhookRow, now = Date.now()) {
  return {
    id: row.id,
    url: maskUrl(row.url),
    events: row.events as EventType[],
    account_ids: row.accountIds,
    ordering: row.ordering,
    format: row.format,
    include_history: row.includeHistory,
    max_concurrency: row.maxConcurrency,
    rate_limit_per_s: row.rateLimitPerS,
    retry_schedule_s: row.retrySchedule ? row.retrySchedule.map((ms) => Math.round(ms / 1000)) : null,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    disabled_at: isoOrNull(row.disabledAt),
    secret_rotating_until: row.previousSecretUntil && row.previousSecretUntil > now ? iso(row.previousSecretUntil) : null,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event: row.event,
    account_id: row.account_id,
    chat_id: row.chat_key,
    seq: row.seq,
    // Rows a backfill queued: their payload carries `history: true`.
    history: row.backfill_id !== null,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? iso(row.available_at) : null,
    last_attempt_at: isoOrNull(row.last_attempt_at),
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    delivered_at: isoOrNull(row.delivered_at),
    created_at: iso(row.created_at),
  };
}

export function attemptView(a: AttemptRow) {
  return {
    attempt: a.attempt,
    started_at: iso(a.started_at),
    duration_ms: a.duration_ms,
    status_code: a.status_code,
    error_class: a.error_class,
    error: a.error,
    response_excerpt: a.response_excerpt,
    outcome: a.outcome,
  };
}

/** Why the account cannot connect now, from the WhatsApp stage (not stored: it is about this process's attempts). */
export interface AccountProblem {
  code: "whatsapp_unreachable" | "resource_limit";
  cause: string;
  since: number;
}

export function accountView(row: AccountRow, problem: AccountProblem | null = null) {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    state: row.state,
    state_since: iso(row.stateSince),
    phone: row.phone,
    push_name: row.pushName,
    last_disconnect:
      row.lastDisconnectCode === null && row.lastDisconnectReason === null
        ? null
        : { code: row.lastDisconnectCode, reason: row.lastDisconnectReason, at: isoOrNull(row.lastDisconnectAt) },
    problem: problem && {
      code: problem.code,
      message: problem.code === "whatsapp_unreachable" ? unreachableMessage(problem.cause) : `${ERRORS[problem.code].message} (${problem.cause})`,
      cause: problem.cause,
      since: iso(problem.since),
    },
    created_at: iso(row.createdAt),
  };
}

// ---- history ------------------------------------------------------------------------------

export function backfillView(row: BackfillRow, progress: Progress, older: OlderRow[] | null) {
  return {
    id: row.id,
    account_id: row.account_id,
    state: row.state,
    auto: row.auto === 1,
    webhook_ids: JSON.parse(row.webhook_ids) as string[],
    chat_ids: row.chat_ids ? (JSON.parse(row.chat_ids) as string[]) : null,
    since: row.since === null ? null : iso(row.since * 1000),
    until: row.until === null ? null : iso(row.until * 1000),
    older_per_chat: row.older_per_chat,
    rate_per_s: row.rate_per_s,
    redeliver: row.redeliver === 1,
    progress,
    older: older && older.map((o) => ({ chat_id: o.chat_id, wanted: o.wanted, received: o.received, requests: o.requests, state: o.state })),
    error: row.error,
    created_at: iso(row.created_at),
    started_at: isoOrNull(row.started_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

export function chatView(row: ChatRow) {
  const group = row.chat_id.endsWith("@g.us");
  const phone = /^(\d+)@c\.us$/.exec(row.chat_id)?.[1] ?? null;
  return {
    id: row.chat_id,
    type: group ? ("group" as const) : ("individual" as const),
    // The payload's rule: a 1:1 chat without a saved name is titled by its phone.
    title: row.saved_title ?? (group ? null : phone),
    wa_name: group ? null : row.push_name,
    message_count: row.message_count,
    first_message_at: iso(row.first_message_at * 1000),
    last_message_at: iso(row.last_message_at * 1000),
  };
}

export function storedMessageView(m: Message) {
  const sender: { phone: string | null; wa_name: string | null; lid?: string } = { phone: m.sender.phone, wa_name: m.sender.wa_name };
  if (m.sender.phone === null && m.sender.lid) sender.lid = m.sender.lid;
  return {
    id: m.id,
    chat_id: m.chatId,
    type: m.type,
    direction: m.direction,
    timestamp: String(Math.floor(m.timestamp)),
    sent_at: iso(m.timestamp * 1000),
    history: m.history,
    sender,
    text: m.text,
    caption: m.caption,
    file_name: m.media?.file_name ?? null,
    mime_type: m.media?.mime_type ?? null,
    file_size: m.media?.file_size ?? null,
    quoted_id: m.quotedId,
  };
}
