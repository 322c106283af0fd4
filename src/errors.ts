// The error catalogue: every 4xx/5xx the API answers comes from here, so a code means the
// same thing everywhere and its message tells the caller what to do next.
export const ERRORS = {
  unauthorized: { status: 401, message: "Send a valid API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'." },
  forbidden: { status: 403, message: "This API key has the 'read' scope; use an 'admin' key for changes." },
  not_found: { status: 404, message: "No such resource." },
  route_not_found: { status: 404, message: "No such route; see /swagger for the API." },
  method_not_allowed: { status: 405, message: "This route does not accept that method; see /swagger for the API." },
  malformed_json: { status: 400, message: "The body is not valid JSON." },
  json_too_deep: { status: 400, message: "The body nests objects or arrays more than 32 levels deep; no route takes more than 4." },
  json_too_wide: { status: 400, message: "An array or object in the body has more than 1,000 entries; no route takes more." },
  unsupported_media_type: { status: 415, message: "Send the body as 'Content-Type: application/json'." },
  validation_failed: { status: 422, message: "The request does not match the schema." },
  invalid_cursor: { status: 400, message: "The cursor is not one this API handed out; drop it to start from the first page." },
  payload_too_large: { status: 413, message: "The body is larger than 1 MiB." },
  target_scheme: { status: 422, message: "Webhook URLs must use http:// or https://." },
  target_too_long: { status: 422, message: "Webhook URLs may be at most 2,048 characters." },
  target_invalid: { status: 422, message: "The webhook URL cannot be parsed." },
  target_forbidden: { status: 422, message: "Link-local and cloud-metadata addresses are never allowed as webhook targets." },
  target_private: { status: 422, message: "Loopback and private addresses are refused unless allowed with WAHOOK_ALLOW_TARGETS." },
  account_open: { status: 409, message: "This account is paired and connected; log it out first to pair another phone." },
  whatsapp_unreachable: {
    status: 503,
    message: "This daemon cannot reach WhatsApp; it keeps retrying with backoff. Run `wahook doctor` on this machine to see why (DNS, firewall, TLS, proxy).",
  },
  resource_limit: {
    status: 503,
    message:
      "No file handle is free for another WhatsApp connection: the open-files limit is reached. Raise it (systemd LimitNOFILE=65536, docker run --ulimit nofile=65536:65536) and restart; `wahook doctor` shows the limit against the account count.",
  },
  qr_unavailable: { status: 503, message: "No QR code yet: the connection to WhatsApp is still starting. Try again in a few seconds." },
  media_link_invalid: { status: 404, message: "This media link is not valid; use the file_url of the webhook exactly as sent." },
  media_link_expired: { status: 410, message: "This media link has expired; links last WAHOOK_MEDIA_TTL_DAYS days." },
  env_key: { status: 409, message: "This key is WAHOOK_API_KEY; the API cannot revoke it. Change or remove WAHOOK_API_KEY and restart to retire it." },
  conflict: { status: 409, message: "The resource is not in a state that allows this." },
  unknown_webhook: { status: 422, message: "A webhook in webhook_ids does not exist or does not take this account's messages; see GET /v1/webhooks." },
  unknown_chat: { status: 422, message: "A chat in chat_ids has no stored messages for this account; see GET /v1/accounts/{id}/chats." },
  no_webhook: { status: 422, message: "No webhook takes this account's messages; create one (POST /v1/webhooks) or pass webhook_ids." },
  backfill_state: { status: 409, message: "The backfill is not in a state that allows this; see its `state`." },
  backup_running: { status: 409, message: "A backup is being made right now; wait until GET /v1/backups no longer shows it under `running`." },
  backup_store_unavailable: { status: 502, message: "The S3 store for backups did not answer as expected; see the server log. Archives in WAHOOK_BACKUP_DIR are not affected." },
  storage_full: {
    status: 507,
    message: "The disk holding the data folder is full, so nothing was changed. No message is lost: WhatsApp keeps them until they can be stored. Free space; wahook resumes by itself (GET /health).",
  },
  internal: { status: 500, message: "Something went wrong on our side; the request was not applied. See the server log." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** What an account that cannot reach WhatsApp says, with the underlying error. */
export function unreachableMessage(cause: string): string {
  return `This daemon cannot reach WhatsApp (${cause}); it keeps retrying. Run \`wahook doctor\` on this machine to see why.`;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: unknown = null,
  ) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}
