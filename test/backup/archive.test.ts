// What a restore accepts and refuses, archive by archive: a round trip keeps every row and
// media file; an archive from an older schema restores and migrates; anything a wahook
// never writes (a newer schema, a name outside the data folder, a link, an entry the
// manifest does not list) is refused with a reason and leaves nothing behind; a folder
// that holds data is replaced only with --force, and then kept aside.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createBackup } from "../../src/backup/create.ts";
import { contentChecksum, type Manifest } from "../../src/backup/manifest.ts";
import { restoreBackup } from "../../src/backup/restore.ts";
import { tarHeader, tarPadding, TAR_END } from "../../src/backup/tar.ts";
import { openStore } from "../../src/store/db.ts";
import { embeddedMigrations, embeddedTags } from "../../src/store/migrations.ts";
import { tempDir } from "../support/app.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(): string {
  const d = tempDir("wahook-archive-");
  dirs.push(d);
  return d;
}

/** A data folder with one webhook, `messages` stored messages and one media file; returns its archive. */
async function archiveOf(opts: { migrations?: number } = {}): Promise<{ archive: string; data: string }> {
  const root = dir();
  const data = join(root, "data");
  mkdirSync(join(data, "media"), { recursive: true });
  const store = openStore(join(data, "wahook.db"), embeddedMigrations().slice(0, opts.migrations));
  store.sqlite.exec("INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_1', 'http://127.0.0.1/hook', '[\"message.received\"]', 'whsec_x')");
  store.sqlite.exec("INSERT INTO messages (account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at) VALUES ('acc', 'c@c.us', 'M1', 'received', 'image', 1, 0, '{}', 1)");
  store.sqlite.exec("INSERT INTO media (id, account_id, message_rowid, status, attempts, next_attempt_at, path, created_at) VALUES ('med_1', 'acc', 1, 'ready', 1, 0, 'med_1', 1)");
  writeFileSync(join(data, "media", "med_1"), "jpeg bytes");
  // A file no row names is not part of the snapshot.
  writeFileSync(join(data, "media", "med_stray"), "stray");
  store.close();
  const archive = join(root, "backups", "b.tar.gz");
  await createBackup({ dbFile: join(data, "wahook.db"), mediaDir: join(data, "media"), out: archive, version: "test" });
  return { archive, data };
}

const restore = (archive: string | Uint8Array, dataDir: string, force = false) =>
  restoreBackup({ source: typeof archive === "string" ? Bun.file(archive).stream() : new Blob([new Uint8Array(archive)]).stream(), from: "test.tar.gz", dataDir, force, knownMigrations: embeddedTags() });

/** A hand-made archive: a manifest (checksummed over `files`) and entries as given. */
function craft(manifest: Partial<Manifest>, entries: { name: string; body: Uint8Array; type?: string }[]): Uint8Array {
  const files = manifest.files ?? entries.map((e) => ({ path: e.name, size: e.body.length, sha256: new Bun.CryptoHasher("sha256").update(e.body).digest("hex") }));
  const full = { kind: "wahook-backup", format: 1, wahook_version: "test", created_at: new Date().toISOString(), schema: { migration: null, migrations: [] }, accounts: [], contains: "", ...manifest, files, checksum: contentChecksum(files) };
  const parts: Uint8Array[] = [];
  const add = (name: string, body: Uint8Array, type = "0") => {
    const header = Buffer.from(tarHeader({ name, size: body.length, mtime: 0 }));
    if (type !== "0") {
      header[156] = type.charCodeAt(0);
      header.write("        ", 148, "ascii");
      let sum = 0;
      for (const b of header) sum += b;
      header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
    }
    parts.push(header, body, tarPadding(body.length));
  };
  add("manifest.json", Buffer.from(JSON.stringify(full)));
  for (const e of entries) add(e.name, e.body, e.type);
  parts.push(TAR_END);
  return Bun.gzipSync(Buffer.concat(parts));
}

describe("round trip", () => {
  test("every row and the snapshot's media file come back, owner-only; a stray file does not", async () => {
    const { archive } = await archiveOf();
    const target = join(dir(), "restored");
    const { manifest } = await restore(archive, target);
    expect(manifest.counts.media_files).toBe(1);
    expect(readdirSync(join(target, "media"))).toEqual(["med_1"]);
    expect(readFileSync(join(target, "media", "med_1"), "utf8")).toBe("jpeg bytes");
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect([target, join(target, "media"), join(target, "wahook.db"), join(target, "media", "med_1")].map(mode)).toEqual(["700", "700", "600", "600"]);
    const store = openStore(join(target, "wahook.db"));
    expect(store.sqlite.query("SELECT id FROM webhooks").all()).toEqual([{ id: "wh_1" }]);
    store.close();
  });

  test("a backup from an older schema restores, and the next start migrates it", async () => {
    const { archive } = await archiveOf({ migrations: 3 });
    const target = join(dir(), "restored");
    const { manifest } = await restore(archive, target);
    expect(manifest.schema.migrations).toEqual(embeddedTags().slice(0, 3));
    const store = openStore(join(target, "wahook.db"));
    expect(store.sqlite.query("SELECT COUNT(*) AS n FROM wahook_migrations").get()).toEqual({ n: embeddedTags().length });
    store.close();
  });
});

describe("refused, leaving nothing behind", () => {
  const db = Buffer.from("not really a database");
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["a newer schema", () => craft({ schema: { migration: "9999_future", migrations: [...embeddedTags(), "9999_future"] } }, [{ name: "wahook.db", body: db }]), /made by a newer wahook/],
    ["a name outside the data folder", () => craft({}, [{ name: "wahook.db", body: db }, { name: "../../etc/cron.d/x", body: db }]), /entry wahook never writes/],
    ["an entry the manifest does not list", () => craft({ files: [{ path: "wahook.db", size: db.length, sha256: new Bun.CryptoHasher("sha256").update(db).digest("hex") }] }, [{ name: "wahook.db", body: db }, { name: "media/med_x", body: db }]), /does not list/],
    ["a symbolic link", () => craft({ files: [{ path: "wahook.db", size: 0, sha256: "0".repeat(64) }] }, [{ name: "wahook.db", body: new Uint8Array(0), type: "2" }]), /not a regular file/],
    ["no manifest first", () => Bun.gzipSync(Buffer.concat([tarHeader({ name: "wahook.db", size: 1, mtime: 0 }), Buffer.from("x"), tarPadding(1), TAR_END])), /does not start with its manifest/],
    ["not gzip at all", () => Buffer.from("hello, this is a text file"), /compressed data is corrupt/],
    ["a database SQLite cannot read", () => craft({}, [{ name: "wahook.db", body: db }]), /database in the archive cannot be read \(file is not a database\)/],
  ];
  test.each(cases)("%s", async (_name, make, reason) => {
    const parent = dir();
    const target = join(parent, "restored");
    const error = await restore(make(), target).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message ?? "restored").toMatch(reason);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe("a folder that holds data", () => {
  test("is refused without --force; with it, replaced and its contents kept aside", async () => {
    const { archive } = await archiveOf();
    const target = join(dir(), "data");
    mkdirSync(target);
    writeFileSync(join(target, "wahook.db"), "the old one");
    await expect(restore(archive, target)).rejects.toThrow("is not empty; pass --force");
    expect(readFileSync(join(target, "wahook.db"), "utf8")).toBe("the old one");
    const { keptAside } = await restore(archive, target, true);
    expect(readFileSync(join(keptAside!, "wahook.db"), "utf8")).toBe("the old one");
    expect(existsSync(join(target, "media", "med_1"))).toBe(true);
  });
});
