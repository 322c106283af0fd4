// The binary's entry and its command line: `wahook [serve]`, `doctor`, `backup`, `restore`,
// `--version`, `--help`. Settings come from the environment (see config.ts); flags only
// choose what to do. `serve` runs the daemon (main.ts) until SIGTERM or SIGINT.
import { ConfigError, loadConfig, SETTINGS, type Config } from "./config.ts";
import { createLogger } from "./log.ts";
import { startDaemon, type Daemon } from "./main.ts";
import { VERSION } from "./version.ts";

export type Command =
  | { kind: "serve" }
  | { kind: "doctor" }
  | { kind: "version" }
  | { kind: "help" }
  | { kind: "backup"; file: string | null }
  | RestoreCommand
  | { kind: "usage_error"; message: string };

export interface RestoreCommand {
  kind: "restore";
  /** A local archive, or a key (or name) in the S3 bucket. */
  source: string;
  dataDir: string;
  force: boolean;
}

export function usage(version: string): string {
  const rows = SETTINGS.map((s) => `  ${s.env.padEnd(22)} ${s.help}\n  ${"".padEnd(22)} default: ${s.default}; accepts ${s.form}`);
  return [
    `wahook ${version} — WhatsApp messages to your webhooks, signed, in order, durably.`,
    "",
    "Usage:",
    "  wahook [serve]      start the daemon (API and Swagger UI at http://<host>:<port>/swagger)",
    "  wahook doctor       check this machine before pairing: data folder, database, open-files",
    "                      limit against the accounts, clock, DNS, TLS and one WhatsApp",
    "                      handshake (pairs nothing); exit 1 on a failure",
    "  wahook backup [FILE] back up the data folder (database + media) while the daemon runs: into",
    "                      FILE, or into WAHOOK_BACKUP_DIR and the S3 bucket when configured",
    "  wahook restore ARCHIVE|S3-KEY --data-dir DIR [--force]",
    "                      restore a backup into DIR after checking it (refused while a daemon",
    "                      uses DIR; --force replaces what DIR holds, keeping it in",
    "                      DIR/.before-restore-<time>); then start wahook on DIR",
    "  wahook --version    print the version",
    "  wahook --help       print this help",
    "",
    "Settings (environment variables, or a .env file in the working directory):",
    ...rows,
    "",
  ].join("\n");
}

export function parseArgs(argv: string[]): Command {
  const args = argv.filter(Boolean);
  if (args.length === 0) return { kind: "serve" };
  if (args[0] === "backup" && args.length <= 2 && !args[1]?.startsWith("-")) return { kind: "backup", file: args[1] ?? null };
  if (args[0] === "restore") return parseRestore(args.slice(1));
  if (args.length === 1) {
    const [a] = args;
    if (a === "serve") return { kind: "serve" };
    if (a === "doctor") return { kind: "doctor" };
    if (a === "--version" || a === "-v" || a === "version") return { kind: "version" };
    if (a === "--help" || a === "-h" || a === "help") return { kind: "help" };
  }
  return { kind: "usage_error", message: `unknown arguments: ${args.join(" ")}` };
}

/**
 * One line that names why the daemon could not start and which setting to look at; a
 * stack trace would only bury it. The known causes get words; anything else its message.
 */
export function describeStartupFailure(error: unknown, where: { host: string; port: number; dataDir: string }): string {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  switch (e.code) {
    case "EADDRINUSE":
      return `port ${where.port} on ${where.host} is already in use by another program (set WAHOOK_PORT or WAHOOK_HOST)`;
    case "EADDRNOTAVAIL":
      return `${where.host} is not an address of this machine (set WAHOOK_HOST)`;
    case "EACCES":
    case "EPERM":
      return `permission denied: ${message} (WAHOOK_DATA_DIR is ${where.dataDir}; it must be writable by this user, and ports below 1024 need privileges)`;
    case "EEXIST":
    case "ENOTDIR":
    case "EROFS":
    case "ENOSPC":
      return `the data folder ${where.dataDir} cannot be used: ${message} (set WAHOOK_DATA_DIR)`;
    case "SQLITE_NOTADB":
    case "SQLITE_CORRUPT":
      return `${where.dataDir}/wahook.db is not a readable wahook database (${message}); restore a backup or point WAHOOK_DATA_DIR elsewhere`;
    case "SQLITE_CANTOPEN":
    case "SQLITE_READONLY":
      return `the database in ${where.dataDir} cannot be opened for writing (${message}); check the folder's owner and permissions`;
    default:
      return message;
  }
}

function parseRestore(args: string[]): Command {
  let dataDir: string | null = null;
  let force = false;
  const sources: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--force") force = true;
    else if (a === "--data-dir") dataDir = args[++i] ?? "";
    else if (a.startsWith("--data-dir=")) dataDir = a.slice("--data-dir=".length);
    else if (a.startsWith("-")) return { kind: "usage_error", message: `restore: unknown option ${a}` };
    else sources.push(a);
  }
  if (sources.length !== 1 || !dataDir) return { kind: "usage_error", message: "restore needs one archive (a file or an S3 key) and --data-dir DIR" };
  return { kind: "restore", source: sources[0]!, dataDir, force };
}

async function main(argv: string[]): Promise<void> {
  const command = parseArgs(argv);
  switch (command.kind) {
    case "version":
      process.stdout.write(`wahook ${VERSION}\n`);
      return;
    case "help":
      process.stdout.write(usage(VERSION));
      return;
    case "usage_error":
      process.stderr.write(`wahook: ${command.message}\n\n${usage(VERSION)}`);
      process.exit(2);
    case "doctor": {
      // Loaded only here: it brings Baileys, which `serve` loads after listening.
      const { runDoctor } = await import("./doctor.ts");
      process.exit(await runDoctor(configOrExit(), (line) => process.stdout.write(`${line}\n`)));
    }
    case "backup": {
      const { runBackupCommand } = await import("./backup/commands.ts");
      process.exit(await runBackupCommand(configOrExit(), command.file, (line) => process.stdout.write(`${line}\n`)));
    }
    case "restore": {
      const { runRestoreCommand } = await import("./backup/commands.ts");
      process.exit(await runRestoreCommand(configOrExit(), command, (line) => process.stdout.write(`${line}\n`)));
    }
    case "serve":
      await serve(configOrExit());
  }
}

/** A bad setting stops the binary with the message naming the variable (exit 2). */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`wahook: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** Runs the daemon until SIGTERM or SIGINT, then stops it gracefully and exits 0. */
async function serve(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  let daemon: Daemon | null = null;
  /** A signal that came while starting (the API already answers then): acted on once started. */
  let early: string | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (!daemon) {
      early ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await daemon.stop();
    log.info("stopped");
    process.exit(0);
  };
  // Before start-up ends: without a handler, a SIGTERM then would kill the process outright.
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  try {
    daemon = await startDaemon(config, log);
  } catch (error) {
    log.debug("start-up failed", { error: (error as Error).stack ?? String(error) });
    process.stderr.write(`wahook: cannot start: ${describeStartupFailure(error, config)}\n`);
    process.exit(2);
  }
  if (early) await shutdown(early);
}

if (import.meta.main) void main(process.argv.slice(2));
