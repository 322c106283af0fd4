// Media links in payloads: the expiry a delivery's queuing fixes (so every retry sends the
// same bytes), the key kept across restarts, and no link before the file is downloaded.
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { linkExpiry, MediaLinks } from "../src/mediaLinks.ts";
import { verifyMediaToken } from "../src/mediaToken.ts";
import { openStore, type Store } from "../src/store/db.ts";
import { finishMedia, insertMedia } from "../src/store/media.ts";
import { insertMessage } from "../src/store/messages.ts";
import { tempDir } from "./support/app.ts";
import { textMessage } from "./support/messages.ts";

const DAY = 86_400_000;

describe("linkExpiry", () => {
  const cases: [string, number, number][] = [
    ["first attempt: TTL after queuing", 0, 7 * DAY],
    ["a retry a day later: the same expiry", 1 * DAY, 7 * DAY],
    ["a replay just before the end: the same expiry", 7 * DAY - 1, 7 * DAY],
    ["a replay at the end: a fresh TTL from now", 7 * DAY, 14 * DAY],
    ["a replay a month later: a fresh TTL from now", 30 * DAY, 37 * DAY],
  ];
  test.each(cases)("%s", (_name, now, expected) => {
    expect(linkExpiry(0, 7 * DAY, now)).toBe(expected);
  });
});

describe("MediaLinks", () => {
  let dir: string;
  let store: Store | null = null;
  afterEach(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(): Store {
    store?.close();
    store = openStore(join(dir, "wahook.db"));
    return store;
  }

  test("links a downloaded file only, signed with the stored key, at the URL known after listen", () => {
    dir = tempDir("wahook-links-");
    const s = open();
    const rowid = insertMessage(s, textMessage({ type: "image", text: null }))!;
    const media = insertMedia(s, { accountId: "acc_test", messageRowid: rowid, status: "pending", mimeType: "image/jpeg", fileName: null, fileSize: 10 }, 1);
    const links = new MediaLinks(s, { dataDir: dir, mediaTtlMs: 7 * DAY, publicUrl: null });
    expect(links.fileUrl(rowid, 1_000)).toBeNull();
    expect(links.fileUrl(null, 1_000)).toBeNull();

    finishMedia(s, media.id, { status: "ready", path: "x.jpg" }, 2);
    links.listeningAt("http://localhost:8080");
    const url = links.fileUrl(rowid, 1_000, 5_000)!;
    expect(url).toStartWith("http://localhost:8080/v1/media/");
    expect(links.fileUrl(rowid, 1_000, 9_000)).toBe(url);
    expect(verifyMediaToken(links.key, url.split("/").pop()!, 5_000)).toEqual({ ok: true, mediaId: media.id });

    const again = new MediaLinks(open(), { dataDir: dir, mediaTtlMs: 7 * DAY, publicUrl: "https://hooks.example.com" });
    expect(again.key.equals(links.key)).toBe(true);
    expect(again.dir).toBe(join(dir, "media"));
    expect(again.fileUrl(rowid, 1_000, 5_000)).toBe(url.replace("http://localhost:8080", "https://hooks.example.com"));
  });
});
