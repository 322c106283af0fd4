// Command line: `wahook [serve]`, `doctor`, `--version`, `--help`. Settings come from the
// environment (see config.ts); flags only choose what to do.
import { SETTINGS } from "./config.ts";

export type Command = { kind: "serve" } | { kind: "doctor" } | { kind: "version" } | { kind: "help" } | { kind: "usage_error"; message: string };

export function usage(version: string): string {
  const rows = SETTINGS.map((s) => `  ${s.env.padEnd(22)} ${s.help}\n  ${"".padEnd(22)} default: ${s.default}; accepts ${s.form}`);
  return [
    `wahook ${version} — WhatsApp messages to your webhooks, signed, in order, durably.`,
    "",
    "Usage:",
    "  wahook [serve]      start the daemon (API and Swagger UI at http://<host>:<port>/swagger)",
    "  wahook doctor       check this machine before pairing: data folder, database, clock,",
    "                      DNS, TLS and one WhatsApp handshake (pairs nothing); exit 1 on a failure",
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
  if (args.length === 1) {
    const [a] = args;
    if (a === "serve") return { kind: "serve" };
    if (a === "doctor") return { kind: "doctor" };
    if (a === "--version" || a === "-v" || a === "version") return { kind: "version" };
    if (a === "--help" || a === "-h" || a === "help") return { kind: "help" };
  }
  return { kind: "usage_error", message: `unknown arguments: ${args.join(" ")}` };
}
