// The download links that delivery payloads carry for stored media (mediaToken.ts signs
// them). A link is the same on every attempt of a delivery: a retry sends the very same
// body and signature, so its expiry comes from when the delivery was queued, not from now.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { signMediaToken } from "./mediaToken.ts";
import type { Store } from "./store/db.ts";
import { kvGetOrSet } from "./store/kv.ts";
import { mediaOfMessage } from "./store/media.ts";

/**
 * When a link made now for a delivery queued at `queuedAt` expires: `ttlMs` after the
 * queuing; only a replay later than that gets a fresh link rather than a dead one.
 */
export function linkExpiry(queuedAt: number, ttlMs: number, now: number): number {
  return queuedAt + ttlMs > now ? queuedAt + ttlMs : now + ttlMs;
}

export class MediaLinks {
  /** Where downloaded media lives (what a link opens). */
  readonly dir: string;
  /** The key links are signed with: made at the first start, kept in the database so links outlive a restart. */
  readonly key: Buffer;
  /** Known once the server listens (WAHOOK_PORT=0 picks the port then); no link is made before. */
  private publicUrl: string;
  private readonly ttlMs: number;

  constructor(
    private readonly store: Store,
    config: Pick<Config, "dataDir" | "mediaTtlMs" | "publicUrl">,
  ) {
    this.dir = join(config.dataDir, "media");
    this.key = Buffer.from(kvGetOrSet(store, "media_link_key", randomBytes(32).toString("base64")), "base64");
    this.ttlMs = config.mediaTtlMs;
    this.publicUrl = config.publicUrl ?? "";
  }

  listeningAt(publicUrl: string): void {
    this.publicUrl = publicUrl;
  }

  /** The link to a stored message's media, or null while there is no downloaded file. */
  fileUrl = (messageRowid: number | null, queuedAt: number, now = Date.now()): string | null => {
    const media = messageRowid === null ? null : mediaOfMessage(this.store, messageRowid);
    if (media?.status !== "ready") return null;
    return `${this.publicUrl}/v1/media/${signMediaToken(this.key, media.id, linkExpiry(queuedAt, this.ttlMs, now))}`;
  };
}
