// Shapes of the backup and storage routes (backups.ts, stats.ts), written once with `t` so
// validation and the OpenAPI document agree.
import { t } from "elysia";
import { BACKUP_NAME } from "../backup/service.ts";
import { NullableTimestamp, Timestamp } from "./schemas.ts";

const EXAMPLE_NAME = "wahook-2026-12-05T03-00-00-000Z.tar.gz";

export const BackupNameParams = t.Object({
  name: t.String({
    pattern: BACKUP_NAME.source,
    description: "The archive's name as GET /v1/backups lists it (`wahook-[auto-]<time>.tar.gz`).",
    examples: [EXAMPLE_NAME],
  }),
});

const QueueCounts = t.Object({ pending: t.Integer(), in_flight: t.Integer(), delivered: t.Integer(), failed: t.Integer() });
const RowsByFamily = t.Record(t.String(), t.Record(t.String(), t.Integer()), {
  description: "Rows per table, grouped by family: messages (messages, media, history_notifications), queue (outbox, delivery_attempts, chat_seq), whatsapp (accounts, credentials, keys, contacts, groups), backfills, settings.",
});

const BackupManifest = t.Object({
  wahook_version: t.String(),
  created_at: Timestamp,
  schema_migration: t.Union([t.String(), t.Null()], { description: "The last database migration in the archive; a restore needs a wahook that knows it." }),
  accounts: t.Array(
    t.Object({
      id: t.String(),
      name: t.String(),
      phone: t.Union([t.String(), t.Null()]),
      state: t.String(),
      paired: t.Boolean({ description: "Its WhatsApp credentials are in the archive: a restore reconnects it without pairing." }),
    }),
  ),
  counts: t.Object({
    messages: t.Integer(),
    media_files: t.Integer(),
    media_bytes: t.Integer(),
    database_bytes: t.Integer(),
    queue: QueueCounts,
    rows: RowsByFamily,
  }),
  checksum: t.String({ description: "SHA-256 over the checksums of every file in the archive; a restore verifies each file." }),
});

export const Backup = t.Object({
  name: t.String({ examples: [EXAMPLE_NAME] }),
  created_at: Timestamp,
  auto: t.Boolean({ description: "Made by the schedule (WAHOOK_BACKUP_CRON); only these are pruned to WAHOOK_BACKUP_KEEP." }),
  size: t.Integer({ description: "Bytes of the archive." }),
  local: t.Boolean({ description: "A copy is in WAHOOK_BACKUP_DIR." }),
  s3_key: t.Union([t.String(), t.Null()], { description: "Its key in the S3 bucket, or null when not uploaded." }),
  manifest: t.Union([BackupManifest, t.Null()], { description: "What the archive holds (read from a local copy); null for an archive only in S3." }),
});

export const BackupList = t.Object(
  {
    data: t.Array(Backup, { description: "Newest first." }),
    running: t.Union([t.Object({ name: t.String(), started_at: Timestamp, auto: t.Boolean() }), t.Null()], { description: "The backup being made now, if any." }),
    last_failure: t.Union([t.Object({ name: t.String(), at: Timestamp, error: t.String() }), t.Null()], { description: "The last backup or upload that failed since start." }),
    s3_error: t.Union([t.String(), t.Null()], { description: "Why the S3 bucket could not be listed (only local archives are shown then); null when it could, or none is configured." }),
  },
  {
    examples: [
      {
        data: [
          {
            name: EXAMPLE_NAME,
            created_at: "2026-12-05T03:00:00.000Z",
            auto: false,
            size: 7340032,
            local: true,
            s3_key: "wahook/" + EXAMPLE_NAME,
            manifest: {
              wahook_version: "0.1.0",
              created_at: "2026-12-05T03:00:01.200Z",
              schema_migration: "0004_no_loss",
              accounts: [{ id: "acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9", name: "Sales", phone: "491701234567", state: "open", paired: true }],
              counts: {
                messages: 100000,
                media_files: 12,
                media_bytes: 480000,
                database_bytes: 68390912,
                queue: { pending: 3, in_flight: 0, delivered: 99990, failed: 7 },
                rows: { messages: { messages: 100000, media: 12 } },
              },
              checksum: "9f2c…",
            },
          },
        ],
        running: null,
        last_failure: null,
        s3_error: null,
      },
    ],
  },
);

/** Nothing to choose yet: no body, or an empty object; anything else is refused (422). */
export const BackupRequest = t.Union([t.Object({}, { additionalProperties: false, examples: [{}] }), t.Undefined()], { description: "Send no body (or `{}`).", examples: [{}] });

export const BackupStarted = t.Object(
  {
    name: t.String({ description: "The archive's name once written; follow it in GET /v1/backups." }),
    started_at: Timestamp,
    state: t.Literal("running"),
  },
  { examples: [{ name: EXAMPLE_NAME, started_at: "2026-12-05T03:00:00.000Z", state: "running" }] },
);

export const StorageStats = t.Object(
  {
    storage: t.Object({
      status: t.Union([t.Literal("ok"), t.Literal("full")], { description: "`full`: writes fail for lack of space; WhatsApp's receipts are held until they work again." }),
      reason: t.Union([t.String(), t.Null()]),
      since: NullableTimestamp,
      disk_free_bytes: t.Union([t.Integer(), t.Null()], { description: "Free space on the data folder's file system." }),
      disk_total_bytes: t.Union([t.Integer(), t.Null()]),
    }),
    database: t.Object({
      bytes: t.Integer({ description: "The database file." }),
      wal_bytes: t.Integer({ description: "Its write-ahead log." }),
      free_bytes: t.Integer({ description: "Free pages inside the file." }),
    }),
    media: t.Object({ bytes: t.Integer(), files: t.Integer(), measured_at: Timestamp }),
    rows: RowsByFamily,
    queue: QueueCounts,
    retention: t.Object({
      delivered_days: t.Integer({ description: "WAHOOK_RETENTION_DAYS, from each delivery." }),
      dead_letter_days: t.Union([t.Integer(), t.Null()], { description: "WAHOOK_DEAD_LETTER_DAYS; null: until replayed." }),
      message_days: t.Union([t.Integer(), t.Null()], { description: "WAHOOK_MESSAGE_RETENTION_DAYS; null: kept." }),
      media_ttl_days: t.Number({ description: "WAHOOK_MEDIA_TTL_DAYS: files go once no link handed out is valid and nothing queued needs them." }),
    }),
  },
  {
    examples: [
      {
        storage: { status: "ok", reason: null, since: null, disk_free_bytes: 41234567890, disk_total_bytes: 84000000000 },
        database: { bytes: 68390912, wal_bytes: 4120032, free_bytes: 0 },
        media: { bytes: 480000, files: 12, measured_at: "2026-12-05T10:00:00.000Z" },
        rows: { messages: { messages: 100000, media: 12, history_notifications: 0 }, queue: { outbox: 100007, delivery_attempts: 100020, chat_seq: 300 } },
        queue: { pending: 3, in_flight: 0, delivered: 99997, failed: 7 },
        retention: { delivered_days: 30, dead_letter_days: null, message_days: null, media_ttl_days: 7 },
      },
    ],
  },
);
