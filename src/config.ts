// The only module that reads the environment. Everything else receives a Config.
// A bad value is reported with the variable's name and the form it accepts, and stops
// start-up (exit 2) instead of surfacing later as an odd runtime failure.
import { isIP } from "node:net";
import { resolve } from "node:path";
import { Cron } from "croner";

// log.ts lists the same levels (neither file imports the other); config.logLevel is handed
// to createLogger, so the compiler catches a level the logger does not know.
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export interface AllowTargets {
  loopback: boolean;
  private: boolean;
  /** Extra CIDR ranges (v4 or v6) that webhooks may target. */
  cidrs: string[];
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Bootstrap admin key from the environment, or null (then one is generated once). */
  apiKey: string | null;
  /** WAHOOK_PUBLIC_URL, or null: then links use the port actually listened on (see publicUrlFor). */
  publicUrl: string | null;
  logLevel: (typeof LOG_LEVELS)[number];
  allowTargets: AllowTargets;
  waUrl: string | null;
  /** Replaces https://mmg.whatsapp.net in media downloads (the test emulator's media host). */
  waMediaUrl: string | null;
  /** Noise certificate root public key override (hex), for the test emulator only. */
  waRootKey: string | null;
  /** How long each pairing QR lives, for tests of the QR refresh; null = WhatsApp's 60 s, then 20 s. */
  waQrTimeoutMs: number | null;
  mediaMaxBytes: number;
  mediaTtlMs: number;
  /** How long a message WhatsApp could not decrypt yet waits for its content before it goes out as `ciphertext`. */
  decryptGraceMs: number;
  retentionDays: number;
  metricsPublic: boolean;
  /** SQLite `synchronous`: `normal` survives a crash or kill -9, `full` also a power cut. */
  dbSync: DbSync;
  /** Days dead letters are kept after their last attempt; null: until replayed or their webhook is deleted. */
  deadLetterDays: number | null;
  /** Days stored messages are kept after they were sent; null: kept. */
  messageRetentionDays: number | null;
  /** `auto`: wahook checkpoints its WAL; `external`: a replication tool (Litestream) does. */
  walCheckpoint: WalCheckpoint;
  backup: BackupConfig;
  /** Print pairing QR codes as terminal art when stdout is a terminal (never into a log file or journal). */
  qrTerminal: boolean;
}

const DB_SYNCS = ["normal", "full"] as const;
export type DbSync = (typeof DB_SYNCS)[number];

const WAL_CHECKPOINTS = ["auto", "external"] as const;
export type WalCheckpoint = (typeof WAL_CHECKPOINTS)[number];

export interface BackupConfig {
  /** Where archives are written (API, schedule, `wahook backup` without a file). */
  dir: string;
  /** croner pattern of scheduled backups, or null. */
  cron: string | null;
  /** Scheduled backups kept (locally and in S3); manual ones are not counted. */
  keep: number;
  s3: BackupS3 | null;
}

/** An S3-compatible store for archives. The keys are secrets: never logged or echoed. */
export interface BackupS3 {
  bucket: string;
  endpoint: string | null;
  region: string | null;
  /** "" or ending with "/". */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
}

interface Setting {
  env: string;
  default: string;
  form: string;
  help: string;
}

/** Every setting, in the order `--help` and the README list them. */
export const SETTINGS: Setting[] = [
  { env: "WAHOOK_HOST", default: "0.0.0.0", form: "an IP address or host name", help: "address the API listens on" },
  { env: "WAHOOK_PORT", default: "8080", form: "an integer 1-65535 (0 picks a free port)", help: "port the API listens on" },
  { env: "WAHOOK_DATA_DIR", default: "./wahook-data", form: "a directory path", help: "SQLite database, credentials and media; created with mode 0700" },
  { env: "WAHOOK_API_KEY", default: "(generated once, printed once)", form: "at least 24 characters", help: "admin API key; only its hash is stored" },
  { env: "WAHOOK_PUBLIC_URL", default: "http://localhost:<port>", form: "an http(s) URL without a trailing path", help: "base URL of links handed to receivers (media)" },
  { env: "WAHOOK_LOG_LEVEL", default: "info", form: "debug, info, warn or error", help: "least severe level written to stdout" },
  { env: "WAHOOK_ALLOW_TARGETS", default: "none", form: "none, or a comma list of loopback, private and CIDR ranges", help: "private address ranges webhooks may target" },
  { env: "WAHOOK_WA_URL", default: "(WhatsApp's own)", form: "a ws:// or wss:// URL", help: "WhatsApp web socket override, for the test emulator" },
  { env: "WAHOOK_WA_MEDIA_URL", default: "(WhatsApp's own)", form: "an http(s) URL", help: "media host override (replaces https://mmg.whatsapp.net), for the test emulator" },
  { env: "WAHOOK_WA_ROOT_KEY", default: "(WhatsApp's own)", form: "64 hex characters", help: "testing only: trust this Noise certificate root key (the emulator's)" },
  { env: "WAHOOK_WA_QR_TIMEOUT_S", default: "(60, then 20)", form: "an integer 1-600", help: "testing only: how long each pairing QR lives before the next replaces it" },
  { env: "WAHOOK_MEDIA_MAX_MB", default: "15", form: "an integer 0-2048", help: "media larger than this is not downloaded (file_url null, file_size set)" },
  { env: "WAHOOK_MEDIA_TTL_DAYS", default: "7", form: "an integer 1-365", help: "how long media links handed to receivers stay valid" },
  {
    env: "WAHOOK_DECRYPT_GRACE_S",
    default: "15",
    form: "an integer 0-3600",
    help: "how long a message the linked device could not decrypt yet waits for WhatsApp's retry before it is delivered as type ciphertext (its chat waits with it)",
  },
  { env: "WAHOOK_RETENTION_DAYS", default: "30", form: "an integer 1-3650", help: "days delivered events and their attempts are kept, counted from their delivery" },
  {
    env: "WAHOOK_DEAD_LETTER_DAYS",
    default: "keep",
    form: "keep, or an integer 1-3650",
    help: "days dead letters and their attempts are kept after their last attempt; keep: until replayed or their webhook is deleted",
  },
  {
    env: "WAHOOK_MESSAGE_RETENTION_DAYS",
    default: "keep",
    form: "keep, or an integer 1-36500",
    help: "days stored messages and their media are kept after they were sent (never while a delivery of them is open or dead-lettered); keep: forever",
  },
  { env: "WAHOOK_METRICS_PUBLIC", default: "false", form: "true or false", help: "serve /metrics without an API key" },
  {
    env: "WAHOOK_DB_SYNC",
    default: "normal",
    form: "normal or full",
    help: "normal: every commit survives a crash or kill -9; full: also a power cut, at about 1 ms of disk sync per commit",
  },
  {
    env: "WAHOOK_WAL_CHECKPOINT",
    default: "auto",
    form: "auto or external",
    help: "auto: wahook copies its write-ahead log into the database; external: left to a replication tool such as Litestream (without one the log only grows)",
  },
  { env: "WAHOOK_BACKUP_DIR", default: "./wahook-backups", form: "a directory path", help: "where backups are written (POST /v1/backups, the schedule, `wahook backup`); created with mode 0700" },
  { env: "WAHOOK_BACKUP_CRON", default: "(none: no scheduled backups)", form: "a cron pattern, e.g. 0 3 * * * (5 or 6 fields, or @daily)", help: "when scheduled backups run (server time)" },
  { env: "WAHOOK_BACKUP_KEEP", default: "7", form: "an integer 1-1000", help: "scheduled backups kept, locally and in S3; older ones are deleted (manual backups are not counted)" },
  { env: "WAHOOK_BACKUP_S3_BUCKET", default: "(none: no upload)", form: "a bucket name (3-63 letters, digits, dots, hyphens)", help: "S3-compatible bucket every backup is uploaded to; needs the two keys below" },
  { env: "WAHOOK_BACKUP_S3_ENDPOINT", default: "(AWS)", form: "an http(s) URL", help: "the S3-compatible store's endpoint (MinIO, R2, B2, Wasabi…)" },
  { env: "WAHOOK_BACKUP_S3_REGION", default: "(the store's default)", form: "a region name, e.g. eu-central-1", help: "the bucket's region" },
  { env: "WAHOOK_BACKUP_S3_PREFIX", default: "(none)", form: "a key prefix, e.g. wahook/ (a / is added)", help: "put before every archive name in the bucket" },
  { env: "WAHOOK_BACKUP_S3_ACCESS_KEY_ID", default: "(none)", form: "an access key id (needed with WAHOOK_BACKUP_S3_BUCKET)", help: "S3 access key id" },
  { env: "WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY", default: "(none)", form: "a secret access key (needed with WAHOOK_BACKUP_S3_BUCKET)", help: "S3 secret key; never logged" },
  { env: "WAHOOK_QR_TERMINAL", default: "false", form: "true or false", help: "print pairing QR codes as terminal art when stdout is a terminal (never into logs)" },
];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly form: string,
    value: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${form}`);
  }
}

type Env = Record<string, string | undefined>;

function formOf(variable: string): string {
  return SETTINGS.find((s) => s.env === variable)?.form ?? "a valid value";
}

function bad(variable: string, value: string): never {
  throw new ConfigError(variable, formOf(variable), value);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) bad(name, raw);
  const n = Number(raw);
  if (n < min || n > max) bad(name, raw);
  return n;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = raw.toLowerCase();
  if (["true", "1", "yes"].includes(v)) return true;
  if (["false", "0", "no"].includes(v)) return false;
  return bad(name, raw);
}

function isCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split("/");
  if (rest.length || !ip || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export function parseAllowTargets(raw: string): AllowTargets | null {
  const out: AllowTargets = { loopback: false, private: false, cidrs: [] };
  const items = raw.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const item of items) {
    if (item === "none") continue;
    else if (item === "loopback") out.loopback = true;
    else if (item === "private") out.private = true;
    else if (isCidr(item)) out.cidrs.push(item);
    else return null;
  }
  return out;
}

function url(env: Env, name: string, schemes: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  try {
    const u = new URL(raw);
    if (!schemes.includes(u.protocol)) bad(name, raw);
    return raw.replace(/\/+$/, "");
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    return bad(name, raw);
  }
}

/** The base of links handed out: WAHOOK_PUBLIC_URL, else this machine on the port listened on (WAHOOK_PORT=0 picks one). */
export function publicUrlFor(config: Pick<Config, "publicUrl">, listenedPort: number): string {
  return config.publicUrl ?? `http://localhost:${listenedPort}`;
}

/** Bun (also the compiled binary) has already read `.env` of the working directory into process.env; real variables win over it. */
export function loadConfig(env: Env = process.env): Config {
  const host = env.WAHOOK_HOST || "0.0.0.0";
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) bad("WAHOOK_HOST", host);
  const port = integer(env, "WAHOOK_PORT", 8080, 0, 65535);
  const dataDir = resolve(env.WAHOOK_DATA_DIR || "./wahook-data");

  const apiKey = env.WAHOOK_API_KEY || null;
  if (apiKey !== null && (apiKey.length < 24 || /\s/.test(apiKey))) bad("WAHOOK_API_KEY", "<hidden>");

  const publicUrl = url(env, "WAHOOK_PUBLIC_URL", ["http:", "https:"]);

  const logLevel = choice(env, "WAHOOK_LOG_LEVEL", LOG_LEVELS, "info");

  const allowRaw = env.WAHOOK_ALLOW_TARGETS ?? "";
  const allowTargets = parseAllowTargets(allowRaw) ?? bad("WAHOOK_ALLOW_TARGETS", allowRaw);

  return {
    host,
    port,
    dataDir,
    apiKey,
    publicUrl,
    logLevel,
    allowTargets,
    waUrl: url(env, "WAHOOK_WA_URL", ["ws:", "wss:"]),
    waMediaUrl: url(env, "WAHOOK_WA_MEDIA_URL", ["http:", "https:"]),
    waRootKey: rootKey(env),
    waQrTimeoutMs: env.WAHOOK_WA_QR_TIMEOUT_S ? integer(env, "WAHOOK_WA_QR_TIMEOUT_S", 0, 1, 600) * 1000 : null,
    mediaMaxBytes: integer(env, "WAHOOK_MEDIA_MAX_MB", 15, 0, 2048) * 1024 * 1024,
    mediaTtlMs: integer(env, "WAHOOK_MEDIA_TTL_DAYS", 7, 1, 365) * 86_400_000,
    decryptGraceMs: integer(env, "WAHOOK_DECRYPT_GRACE_S", 15, 0, 3600) * 1000,
    retentionDays: integer(env, "WAHOOK_RETENTION_DAYS", 30, 1, 3650),
    metricsPublic: boolean(env, "WAHOOK_METRICS_PUBLIC", false),
    dbSync: choice(env, "WAHOOK_DB_SYNC", DB_SYNCS, "normal"),
    deadLetterDays: daysOrKeep(env, "WAHOOK_DEAD_LETTER_DAYS", 3650),
    messageRetentionDays: daysOrKeep(env, "WAHOOK_MESSAGE_RETENTION_DAYS", 36500),
    walCheckpoint: choice(env, "WAHOOK_WAL_CHECKPOINT", WAL_CHECKPOINTS, "auto"),
    backup: {
      dir: resolve(env.WAHOOK_BACKUP_DIR || "./wahook-backups"),
      cron: cron(env, "WAHOOK_BACKUP_CRON"),
      keep: integer(env, "WAHOOK_BACKUP_KEEP", 7, 1, 1000),
      s3: s3(env),
    },
    qrTerminal: boolean(env, "WAHOOK_QR_TERMINAL", false),
  };
}

function rootKey(env: Record<string, string | undefined>): string | null {
  const value = env.WAHOOK_WA_ROOT_KEY;
  if (!value) return null;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) bad("WAHOOK_WA_ROOT_KEY", value);
  return value.toLowerCase();
}

/** One of `values`, in any case; unset or empty is `fallback`. */
function choice<const T extends readonly string[]>(env: Env, name: string, values: T, fallback: T[number]): T[number] {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  return values.find((value) => value === raw.toLowerCase()) ?? bad(name, raw);
}

/** `keep` (or unset) → null; else days. */
function daysOrKeep(env: Env, name: string, max: number): number | null {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw.toLowerCase() === "keep") return null;
  return integer(env, name, 0, 1, max);
}

function cron(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  try {
    new Cron(raw, { paused: true }).stop();
  } catch {
    bad(name, raw);
  }
  return raw;
}

const S3_VARIABLES = [
  "WAHOOK_BACKUP_S3_BUCKET",
  "WAHOOK_BACKUP_S3_ENDPOINT",
  "WAHOOK_BACKUP_S3_REGION",
  "WAHOOK_BACKUP_S3_PREFIX",
  "WAHOOK_BACKUP_S3_ACCESS_KEY_ID",
  "WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY",
];

/** Any S3 setting asks for uploads; then the bucket and both keys must be there. */
function s3(env: Env): BackupS3 | null {
  if (!S3_VARIABLES.some((name) => env[name])) return null;
  const bucket = env.WAHOOK_BACKUP_S3_BUCKET ?? "";
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/.test(bucket)) bad("WAHOOK_BACKUP_S3_BUCKET", bucket);
  // Keys are never repeated, not even in the message that refuses them.
  const accessKeyId = env.WAHOOK_BACKUP_S3_ACCESS_KEY_ID ?? "";
  if (!accessKeyId || /\s/.test(accessKeyId)) bad("WAHOOK_BACKUP_S3_ACCESS_KEY_ID", accessKeyId ? "<hidden>" : "");
  const secretAccessKey = env.WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY ?? "";
  if (!secretAccessKey || /\s/.test(secretAccessKey)) bad("WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY", secretAccessKey ? "<hidden>" : "");
  const region = env.WAHOOK_BACKUP_S3_REGION || null;
  if (region !== null && !/^[A-Za-z0-9-]{2,40}$/.test(region)) bad("WAHOOK_BACKUP_S3_REGION", region);
  const rawPrefix = (env.WAHOOK_BACKUP_S3_PREFIX ?? "").replace(/^\/+/, "");
  if (!/^[A-Za-z0-9!_.*'()/-]*$/.test(rawPrefix)) bad("WAHOOK_BACKUP_S3_PREFIX", rawPrefix);
  const prefix = rawPrefix && !rawPrefix.endsWith("/") ? `${rawPrefix}/` : rawPrefix;
  return { bucket, endpoint: url(env, "WAHOOK_BACKUP_S3_ENDPOINT", ["http:", "https:"]), region, prefix, accessKeyId, secretAccessKey };
}
