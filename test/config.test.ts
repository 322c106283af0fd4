// config.ts is the only reader of the environment: every setting's default, the forms it
// accepts, and the message a bad value stops start-up with (variable name + accepted form).
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, SETTINGS, loadConfig, publicUrlFor, type Config } from "../src/config.ts";

const MB = 1024 * 1024;
const DAY = 86_400_000;
const KEY = "k".repeat(24);
const ROOT_KEY = "0123456789abcdef".repeat(4);

describe("defaults", () => {
  test("an empty environment gives every documented default", () => {
    expect(loadConfig({})).toEqual({
      host: "0.0.0.0",
      port: 8080,
      dataDir: resolve("./wahook-data"),
      apiKey: null,
      publicUrl: null,
      logLevel: "info",
      allowTargets: { loopback: false, private: false, cidrs: [] },
      waUrl: null,
      waMediaUrl: null,
      waRootKey: null,
      waQrTimeoutMs: null,
      mediaMaxBytes: 15 * MB,
      mediaTtlMs: 7 * DAY,
      decryptGraceMs: 15_000,
      retentionDays: 30,
      metricsPublic: false,
      dbSync: "normal",
      deadLetterDays: null,
      messageRetentionDays: null,
      walCheckpoint: "auto",
      backup: { dir: resolve("./wahook-backups"), cron: null, keep: 7, s3: null },
      qrTerminal: false,
    });
  });

  // An exported-but-empty variable (`WAHOOK_PORT=` in a compose file) means "not set".
  test("empty values fall back to the defaults", () => {
    const empty = Object.fromEntries(SETTINGS.map((s) => [s.env, ""]));
    expect(loadConfig(empty)).toEqual(loadConfig({}));
  });

  test("the public URL follows the port listened on when not set (WAHOOK_PORT=0 included)", () => {
    expect(publicUrlFor(loadConfig({ WAHOOK_PORT: "9000" }), 9000)).toBe("http://localhost:9000");
    expect(publicUrlFor(loadConfig({ WAHOOK_PORT: "0" }), 41234)).toBe("http://localhost:41234");
    expect(publicUrlFor(loadConfig({ WAHOOK_PORT: "0", WAHOOK_PUBLIC_URL: "https://hooks.example.com" }), 41234)).toBe("https://hooks.example.com");
  });
});

describe("valid forms", () => {
  const cases: [string, Record<string, string>, Partial<Config>][] = [
    ["host IPv4", { WAHOOK_HOST: "127.0.0.1" }, { host: "127.0.0.1" }],
    ["host IPv6", { WAHOOK_HOST: "::1" }, { host: "::1" }],
    ["host name", { WAHOOK_HOST: "wahook.internal" }, { host: "wahook.internal" }],
    ["port 1", { WAHOOK_PORT: "1" }, { port: 1 }],
    ["port 65535", { WAHOOK_PORT: "65535" }, { port: 65535 }],
    ["port 0 picks a free port", { WAHOOK_PORT: "0" }, { port: 0 }],
    ["data dir made absolute", { WAHOOK_DATA_DIR: "some/dir" }, { dataDir: resolve("some/dir") }],
    ["data dir absolute", { WAHOOK_DATA_DIR: "/var/lib/wahook" }, { dataDir: "/var/lib/wahook" }],
    ["API key of 24 characters", { WAHOOK_API_KEY: KEY }, { apiKey: KEY }],
    ["public URL https", { WAHOOK_PUBLIC_URL: "https://hooks.example.com" }, { publicUrl: "https://hooks.example.com" }],
    ["public URL trailing slash dropped", { WAHOOK_PUBLIC_URL: "https://hooks.example.com/" }, { publicUrl: "https://hooks.example.com" }],
    ["log level debug", { WAHOOK_LOG_LEVEL: "debug" }, { logLevel: "debug" }],
    ["log level warn", { WAHOOK_LOG_LEVEL: "warn" }, { logLevel: "warn" }],
    ["log level error", { WAHOOK_LOG_LEVEL: "error" }, { logLevel: "error" }],
    ["log level in capitals", { WAHOOK_LOG_LEVEL: "WARN" }, { logLevel: "warn" }],
    ["allow none", { WAHOOK_ALLOW_TARGETS: "none" }, { allowTargets: { loopback: false, private: false, cidrs: [] } }],
    ["allow loopback", { WAHOOK_ALLOW_TARGETS: "loopback" }, { allowTargets: { loopback: true, private: false, cidrs: [] } }],
    ["allow private", { WAHOOK_ALLOW_TARGETS: "private" }, { allowTargets: { loopback: false, private: true, cidrs: [] } }],
    [
      "allow list with spaces, capitals and CIDRs",
      { WAHOOK_ALLOW_TARGETS: " Loopback , private,10.1.0.0/16, FD00::/8 " },
      { allowTargets: { loopback: true, private: true, cidrs: ["10.1.0.0/16", "fd00::/8"] } },
    ],
    ["allow single host /32", { WAHOOK_ALLOW_TARGETS: "192.168.1.10/32" }, { allowTargets: { loopback: false, private: false, cidrs: ["192.168.1.10/32"] } }],
    ["allow IPv6 /128", { WAHOOK_ALLOW_TARGETS: "::1/128" }, { allowTargets: { loopback: false, private: false, cidrs: ["::1/128"] } }],
    ["allow NONE in capitals", { WAHOOK_ALLOW_TARGETS: "NONE" }, { allowTargets: { loopback: false, private: false, cidrs: [] } }],
    ["allow none beside other entries adds nothing", { WAHOOK_ALLOW_TARGETS: "none,loopback" }, { allowTargets: { loopback: true, private: false, cidrs: [] } }],
    ["allow list with empty entries", { WAHOOK_ALLOW_TARGETS: "10.1.0.0/16,," }, { allowTargets: { loopback: false, private: false, cidrs: ["10.1.0.0/16"] } }],
    ["allow every IPv4 address", { WAHOOK_ALLOW_TARGETS: "0.0.0.0/0" }, { allowTargets: { loopback: false, private: false, cidrs: ["0.0.0.0/0"] } }],
    ["WA URL ws", { WAHOOK_WA_URL: "ws://127.0.0.1:7000/ws" }, { waUrl: "ws://127.0.0.1:7000/ws" }],
    ["WA URL wss", { WAHOOK_WA_URL: "wss://emulator.test/ws/chat" }, { waUrl: "wss://emulator.test/ws/chat" }],
    ["WA media URL", { WAHOOK_WA_MEDIA_URL: "https://127.0.0.1:7001/" }, { waMediaUrl: "https://127.0.0.1:7001" }],
    ["root key lower-cased", { WAHOOK_WA_ROOT_KEY: ROOT_KEY.toUpperCase() }, { waRootKey: ROOT_KEY }],
    ["media max 0 (never download)", { WAHOOK_MEDIA_MAX_MB: "0" }, { mediaMaxBytes: 0 }],
    ["media max 2048", { WAHOOK_MEDIA_MAX_MB: "2048" }, { mediaMaxBytes: 2048 * MB }],
    ["media TTL 1 day", { WAHOOK_MEDIA_TTL_DAYS: "1" }, { mediaTtlMs: DAY }],
    ["media TTL 365 days", { WAHOOK_MEDIA_TTL_DAYS: "365" }, { mediaTtlMs: 365 * DAY }],
    ["retention 1 day", { WAHOOK_RETENTION_DAYS: "1" }, { retentionDays: 1 }],
    ["retention 3650 days", { WAHOOK_RETENTION_DAYS: "3650" }, { retentionDays: 3650 }],
    ["metrics public true", { WAHOOK_METRICS_PUBLIC: "true" }, { metricsPublic: true }],
    ["metrics public TRUE", { WAHOOK_METRICS_PUBLIC: "TRUE" }, { metricsPublic: true }],
    ["metrics public 1", { WAHOOK_METRICS_PUBLIC: "1" }, { metricsPublic: true }],
    ["metrics public yes", { WAHOOK_METRICS_PUBLIC: "yes" }, { metricsPublic: true }],
    ["metrics public false", { WAHOOK_METRICS_PUBLIC: "false" }, { metricsPublic: false }],
    ["metrics public 0", { WAHOOK_METRICS_PUBLIC: "0" }, { metricsPublic: false }],
    ["metrics public no", { WAHOOK_METRICS_PUBLIC: "no" }, { metricsPublic: false }],
    ["db sync full", { WAHOOK_DB_SYNC: "full" }, { dbSync: "full" }],
    ["db sync NORMAL", { WAHOOK_DB_SYNC: "NORMAL" }, { dbSync: "normal" }],
    ["dead letters kept (the word)", { WAHOOK_DEAD_LETTER_DAYS: "keep" }, { deadLetterDays: null }],
    ["dead letters 90 days", { WAHOOK_DEAD_LETTER_DAYS: "90" }, { deadLetterDays: 90 }],
    ["messages KEEP", { WAHOOK_MESSAGE_RETENTION_DAYS: "KEEP" }, { messageRetentionDays: null }],
    ["messages 365 days", { WAHOOK_MESSAGE_RETENTION_DAYS: "365" }, { messageRetentionDays: 365 }],
    ["messages 36500 days", { WAHOOK_MESSAGE_RETENTION_DAYS: "36500" }, { messageRetentionDays: 36500 }],
    ["WAL checkpoints left to Litestream", { WAHOOK_WAL_CHECKPOINT: "External" }, { walCheckpoint: "external" }],
    ["backup folder", { WAHOOK_BACKUP_DIR: "/srv/backups" }, { backup: { dir: "/srv/backups", cron: null, keep: 7, s3: null } }],
    ["backups nightly, keep 14", { WAHOOK_BACKUP_CRON: "0 3 * * *", WAHOOK_BACKUP_KEEP: "14" }, { backup: { dir: resolve("./wahook-backups"), cron: "0 3 * * *", keep: 14, s3: null } }],
    ["backups with seconds field", { WAHOOK_BACKUP_CRON: "30 0 3 * * *" }, { backup: { dir: resolve("./wahook-backups"), cron: "30 0 3 * * *", keep: 7, s3: null } }],
    ["backups @daily", { WAHOOK_BACKUP_CRON: "@daily" }, { backup: { dir: resolve("./wahook-backups"), cron: "@daily", keep: 7, s3: null } }],
    [
      "S3 with endpoint, region and a prefix that gets its slash",
      {
        WAHOOK_BACKUP_S3_BUCKET: "wahook-backups",
        WAHOOK_BACKUP_S3_ENDPOINT: "https://s3.eu-central-003.backblazeb2.com/",
        WAHOOK_BACKUP_S3_REGION: "eu-central-003",
        WAHOOK_BACKUP_S3_PREFIX: "/prod/wahook",
        WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
        WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY: "s3cr3t/Key+Example",
      },
      {
        backup: {
          dir: resolve("./wahook-backups"),
          cron: null,
          keep: 7,
          s3: {
            bucket: "wahook-backups",
            endpoint: "https://s3.eu-central-003.backblazeb2.com",
            region: "eu-central-003",
            prefix: "prod/wahook/",
            accessKeyId: "AKIAEXAMPLE",
            secretAccessKey: "s3cr3t/Key+Example",
          },
        },
      },
    ],
    [
      "S3 on AWS: bucket and keys only",
      { WAHOOK_BACKUP_S3_BUCKET: "my.bucket", WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "AK", WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY: "SK" },
      { backup: { dir: resolve("./wahook-backups"), cron: null, keep: 7, s3: { bucket: "my.bucket", endpoint: null, region: null, prefix: "", accessKeyId: "AK", secretAccessKey: "SK" } } },
    ],
  ];
  test.each(cases)("%s", (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });
});

describe("bad values stop start-up with the variable's name and the accepted form", () => {
  const cases: [string, string, string][] = [
    ["WAHOOK_HOST", "my host", "an IP address or host name"],
    ["WAHOOK_HOST", "http://x", "an IP address or host name"],
    ["WAHOOK_PORT", "99999", "an integer 1-65535"],
    ["WAHOOK_PORT", "65536", "an integer 1-65535"],
    ["WAHOOK_PORT", "abc", "an integer 1-65535"],
    ["WAHOOK_PORT", "-1", "an integer 1-65535"],
    ["WAHOOK_PORT", "80.5", "an integer 1-65535"],
    ["WAHOOK_PUBLIC_URL", "ftp://x", "an http(s) URL"],
    ["WAHOOK_PUBLIC_URL", "hooks.example.com", "an http(s) URL"],
    ["WAHOOK_LOG_LEVEL", "loud", "debug, info, warn or error"],
    ["WAHOOK_LOG_LEVEL", "trace", "debug, info, warn or error"],
    ["WAHOOK_ALLOW_TARGETS", "bogus", "none, or a comma list of loopback, private and CIDR ranges"],
    ["WAHOOK_ALLOW_TARGETS", "loopback,bogus", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.0.0.0", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.0.0.0/33", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "fd00::/129", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "300.0.0.0/8", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.0.0.0/8/1", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.0.0.0/x", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.1.0.0/", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "10.1/16", "none, or a comma list"],
    ["WAHOOK_ALLOW_TARGETS", "loopback;private", "none, or a comma list"],
    ["WAHOOK_WA_URL", "http://x", "a ws:// or wss:// URL"],
    ["WAHOOK_WA_URL", "https://web.whatsapp.com/ws", "a ws:// or wss:// URL"],
    ["WAHOOK_WA_URL", "not a url", "a ws:// or wss:// URL"],
    ["WAHOOK_WA_MEDIA_URL", "ws://x", "an http(s) URL"],
    ["WAHOOK_WA_ROOT_KEY", "abc", "64 hex characters"],
    ["WAHOOK_WA_ROOT_KEY", ROOT_KEY.slice(1), "64 hex characters"],
    ["WAHOOK_WA_ROOT_KEY", `${ROOT_KEY.slice(1)}g`, "64 hex characters"],
    ["WAHOOK_MEDIA_MAX_MB", "2049", "an integer 0-2048"],
    ["WAHOOK_MEDIA_MAX_MB", "-1", "an integer 0-2048"],
    ["WAHOOK_MEDIA_MAX_MB", "1.5", "an integer 0-2048"],
    ["WAHOOK_MEDIA_TTL_DAYS", "0", "an integer 1-365"],
    ["WAHOOK_MEDIA_TTL_DAYS", "366", "an integer 1-365"],
    ["WAHOOK_RETENTION_DAYS", "0", "an integer 1-3650"],
    ["WAHOOK_RETENTION_DAYS", "3651", "an integer 1-3650"],
    ["WAHOOK_RETENTION_DAYS", "ten", "an integer 1-3650"],
    ["WAHOOK_METRICS_PUBLIC", "maybe", "true or false"],
    ["WAHOOK_METRICS_PUBLIC", "on", "true or false"],
    ["WAHOOK_DB_SYNC", "off", "normal or full"],
    ["WAHOOK_DEAD_LETTER_DAYS", "0", "keep, or an integer 1-3650"],
    ["WAHOOK_DEAD_LETTER_DAYS", "forever", "keep, or an integer 1-3650"],
    ["WAHOOK_MESSAGE_RETENTION_DAYS", "36501", "keep, or an integer 1-36500"],
    ["WAHOOK_MESSAGE_RETENTION_DAYS", "-5", "keep, or an integer 1-36500"],
    ["WAHOOK_WAL_CHECKPOINT", "litestream", "auto or external"],
    ["WAHOOK_BACKUP_CRON", "every night", "a cron pattern"],
    ["WAHOOK_BACKUP_CRON", "61 * * * *", "a cron pattern"],
    ["WAHOOK_BACKUP_KEEP", "0", "an integer 1-1000"],
    ["WAHOOK_BACKUP_KEEP", "1001", "an integer 1-1000"],
  ];
  test.each(cases)("%s=%s", (variable, value, form) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.variable).toBe(variable);
    expect(error.message).toStartWith(`${variable}=`);
    expect(error.message).toContain(JSON.stringify(value));
    expect(error.message).toContain(`expected ${form}`);
  });

  // The key is a secret: a message that echoes it would put it into logs and terminals.
  test.each([
    ["too short", "short-key-123"],
    ["23 characters", "k".repeat(23)],
    ["long but with a space", "abcdefghijklmnop qrstuvwxyz0123"],
  ])("WAHOOK_API_KEY %s: refused without repeating the key", (_name, key) => {
    expect(() => loadConfig({ WAHOOK_API_KEY: key })).toThrow(ConfigError);
    try {
      loadConfig({ WAHOOK_API_KEY: key });
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain("WAHOOK_API_KEY");
      expect(message).toContain("at least 24 characters");
      expect(message).not.toContain(key);
      expect(message).not.toContain(key.slice(0, 8));
    }
  });
});

describe("S3 settings: all or nothing, and the keys never repeated", () => {
  const full = { WAHOOK_BACKUP_S3_BUCKET: "wahook-bk", WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLEKEY", WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY: "very/secret+key" };
  const refused = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig(env);
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error("accepted");
  };
  test.each([
    ["a key without a bucket", { WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLEKEY" }, "WAHOOK_BACKUP_S3_BUCKET"],
    ["a bucket without keys", { WAHOOK_BACKUP_S3_BUCKET: "wahook-backups" }, "WAHOOK_BACKUP_S3_ACCESS_KEY_ID"],
    ["a bucket and an id without the secret", { WAHOOK_BACKUP_S3_BUCKET: "wahook-backups", WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLEKEY" }, "WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY"],
    ["a bucket name with a slash", { ...full, WAHOOK_BACKUP_S3_BUCKET: "a/b" }, "WAHOOK_BACKUP_S3_BUCKET"],
    ["an endpoint that is not http(s)", { ...full, WAHOOK_BACKUP_S3_ENDPOINT: "s3.example.com" }, "WAHOOK_BACKUP_S3_ENDPOINT"],
    ["a secret with a space", { ...full, WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY: "very secret key" }, "WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY"],
  ])("%s is refused naming %s", (_name, env, variable) => {
    const error = refused(env);
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain("very");
    expect(error.message).not.toContain("AKIAEXAMPLEKEY");
  });
});
