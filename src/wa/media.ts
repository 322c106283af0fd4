// Downloads the media of stored messages into the data folder. Runs beside delivery, never
// in its way: a message with media holds only its own deliveries, until its download ends
// (ready, or failed for good → delivered with file_url null) or the hold deadline passes.
import { downloadContentFromMessage, proto } from "baileys";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
export { MEDIA_HOLD_MS } from "./limits.ts";
import { dueMedia, finishMedia, retryMedia, type MediaRow } from "../store/media.ts";
import { readMessage } from "../store/messages.ts";
import { isNoSpace } from "../store/storageHealth.ts";
import { mediaOf, unwrap } from "./content.ts";

/** Delays before attempts 2..4; then the download has failed for good. */
export const MEDIA_RETRY_MS = [2_000, 10_000, 30_000];
const PARALLEL = 2;
const DOWNLOAD_TIMEOUT_MS = 60_000;
/** After a download found the disk full, downloads wait this long before the next try. */
const NO_SPACE_PAUSE_MS = 5_000;

export interface MediaDownloaderOptions {
  store: Store;
  log: Logger;
  dir: string;
  maxBytes: number;
  /** Tell delivery that held rows became due. */
  wakeDelivery(): void;
  /** Delays before attempts 2, 3, … (default MEDIA_RETRY_MS); tests shorten them. */
  retryMs?: number[];
}

export class MediaDownloader {
  private active = 0;
  private running = false;
  private readonly busy = new Set<string>();
  private pausedUntil = 0;

  constructor(private readonly opts: MediaDownloaderOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  stop(): void {
    this.running = false;
  }

  /** Starts due downloads up to the parallel limit. Called on new media and each second. */
  wake = (): void => {
    if (!this.running || Date.now() < this.pausedUntil) return;
    const room = PARALLEL - this.active;
    if (room <= 0) return;
    for (const row of dueMedia(this.opts.store, Date.now(), room + this.busy.size)) {
      if (this.active >= PARALLEL) break;
      if (this.busy.has(row.id)) continue;
      this.busy.add(row.id);
      this.active++;
      void this.download(row).finally(() => {
        this.busy.delete(row.id);
        this.active--;
        this.wake();
      });
    }
  };

  private async download(row: MediaRow): Promise<void> {
    const { store } = this.opts;
    const file = join(this.opts.dir, row.id);
    try {
      const message = readMessage(store, row.message_rowid);
      if (!message) throw new Error("message gone");
      const raw = (message.raw as { message?: object } | null)?.message;
      if (!raw) throw new Error("no stored WhatsApp message to download from");
      // Stored as JSON with bytes in base64; fromObject turns them back into bytes.
      // The same reading of the content as normalize.ts: the bytes it promised are these.
      const { content } = unwrap(proto.Message.fromObject(raw));
      const found = content ? mediaOf(content) : null;
      if (!found) throw new Error("no media in the message");
      const media = found.field;
      const stream = await downloadContentFromMessage(
        { mediaKey: media.mediaKey, directPath: media.directPath, url: media.url },
        found.type,
        { options: { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) } },
      );
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.opts.maxBytes) {
          stream.destroy();
          finishMedia(store, row.id, { status: "too_large", fileSize: size, error: `larger than ${this.opts.maxBytes} bytes` }, Date.now());
          this.opts.wakeDelivery();
          return;
        }
        chunks.push(chunk);
      }
      // Written under a temporary name, then renamed: a crash never leaves half a file served.
      writeFileSync(`${file}.part`, Buffer.concat(chunks), { mode: 0o600 });
      renameSync(`${file}.part`, file);
      finishMedia(store, row.id, { status: "ready", path: row.id, fileSize: size }, Date.now());
      this.opts.wakeDelivery();
    } catch (error) {
      rmSync(`${file}.part`, { force: true });
      // Shutting down: the row stays pending and the next start resumes it.
      if (!this.running) return;
      if (isNoSpace(error)) {
        // A full disk is not the download's fault: it keeps its attempts, and downloads
        // wait until the disk may take writes again (nothing is written meanwhile).
        this.pausedUntil = Date.now() + NO_SPACE_PAUSE_MS;
        setTimeout(this.wake, NO_SPACE_PAUSE_MS).unref();
        this.opts.log.warn("media download postponed: the disk is full", { media_id: row.id });
        return;
      }
      const message = (error as Error).message ?? String(error);
      const delay = (this.opts.retryMs ?? MEDIA_RETRY_MS)[row.attempts];
      try {
        if (delay !== undefined) {
          retryMedia(store, row.id, Date.now() + delay, message);
          this.opts.log.warn("media download failed; will retry", { media_id: row.id, attempt: row.attempts + 1, error: message });
        } else {
          finishMedia(store, row.id, { status: "failed", error: message }, Date.now());
          this.opts.log.error("media download failed for good; delivering without file_url", { media_id: row.id, error: message });
          this.opts.wakeDelivery();
        }
      } catch (recordError) {
        // The database refused the record (a full disk): the row stays pending as it was.
        this.pausedUntil = Date.now() + NO_SPACE_PAUSE_MS;
        setTimeout(this.wake, NO_SPACE_PAUSE_MS).unref();
        this.opts.log.error("could not record a media download's failure; trying again later", { media_id: row.id, error: recordError });
      }
    }
  }
}
