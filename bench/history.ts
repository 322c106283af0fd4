// History ingest: the emulator syncs N generated history messages into the compiled daemon
// (blobs downloaded, decrypted, inflated, decoded by Baileys, normalized and stored by us).
// Figure: messages stored per second, from the moment the emulator has pushed the sync to
// the last message stored; baseline in the same run: a bare bun:sqlite prepared-insert
// loop of exactly the rows the daemon stored, same pragmas and batch size. Also the
// daemon's peak RSS.
// Usage: bun bench/history.ts [--messages 100000] [--chats 200]
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HISTORY_BATCH } from "../src/ingest/history.ts";
import { openStore } from "../src/store/db.ts";
import { tempDir } from "../test/support/app.ts";
import { startEmulator } from "../test/wa-emulator/emulator.ts";
import { ingestedCount, pairAccount, startBinaryDaemon } from "./harness.ts";
import { waitUntil } from "../test/support/wait.ts";
import { emit, peakRssMb } from "./lib.ts";

const { values } = parseArgs({
  options: { messages: { type: "string", default: "100000" }, chats: { type: "string", default: "200" }, chunks: { type: "string", default: "" } },
});
const N = Number(values.messages);
const CHATS = Number(values.chats);
const CHUNKS = Number(values.chunks || Math.max(1, Math.ceil(N / 20_000)));
const PHONE = "15550009100";

const emu = await startEmulator({ seed: "bench-history", history: { enabled: false } });
emu.device(PHONE).setHistory({ enabled: true, messages: N, chats: CHATS, chunks: CHUNKS });
let pushedAt = 0;
emu.on("history-sent", () => (pushedAt = performance.now()));

const daemon = await startBinaryDaemon(emu);
await pairAccount(daemon, emu, PHONE);
await waitUntil(() => pushedAt > 0, 60_000, "emulator pushed the history");
await waitUntil(async () => (await ingestedCount(daemon)) >= N, 300_000, `${N} messages stored`, 20);
const seconds = (performance.now() - pushedAt) / 1000;
const peak = await peakRssMb(daemon.pid);
await daemon.stop();

// Baseline: the same rows, inserted by a bare prepared statement into a fresh database.
const source = new Database(join(daemon.dir, "data", "wahook.db"), { readonly: true });
type Row = [string, string, string, string, string, number, number, string, number];
const rows = source
  .query("SELECT account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at FROM messages")
  .values() as Row[];
source.close();
const baseDir = tempDir("wahook-bench-bare-");
// Our schema and pragmas (WAL, synchronous FULL), so only the code path differs.
const bare = openStore(join(baseDir, "bare.db"));
bare.sqlite.exec("INSERT INTO accounts (id, name, state, state_since) VALUES ('acc_bare', 'bare', 'stopped', 0)");
const insert = bare.sqlite.prepare(
  "INSERT INTO messages (account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
);
const t0 = performance.now();
for (let i = 0; i < rows.length; i += HISTORY_BATCH) {
  const slice = rows.slice(i, i + HISTORY_BATCH);
  bare.sqlite.transaction(() => {
    for (const r of slice) insert.run(...r);
  })();
}
const bareSeconds = (performance.now() - t0) / 1000;
bare.close();
rmSync(baseDir, { recursive: true, force: true });
daemon.clean();
await emu.close();

const rate = N / seconds;
const bareRate = rows.length / bareSeconds;
emit({
  bench: "history",
  metric: "history ingest",
  value: rate,
  unit: "msg/s",
  baseline: { metric: "bare prepared-insert loop, same rows", value: bareRate },
  target: "≥ 0.3 × baseline",
  pass: rate >= 0.3 * bareRate,
  extra: { messages: N, chats: CHATS, chunks: CHUNKS, seconds: +seconds.toFixed(2), stored_rows: rows.length, avg_row_bytes: Math.round(rows.reduce((n, r) => n + r[7].length, 0) / rows.length) },
});
emit({ bench: "history", metric: "peak RSS during history ingest", value: peak, unit: "MB", target: "< 300 MB", pass: peak < 300, extra: { messages: N, chunks: CHUNKS } });
process.exit(0);
