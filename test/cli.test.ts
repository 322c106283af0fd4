// The command line: which argument lists mean what (pure), then the compiled binary as a
// user meets it: version, help listing every setting, exit 2 on a wrong flag or setting.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { parseArgs, type Command } from "../src/cli.ts";
import { SETTINGS } from "../src/config.ts";
import { binaryInEmptyDir } from "./support/binary.ts";

describe("parseArgs", () => {
  const cases: [string[], Command["kind"]][] = [
    [[], "serve"],
    [[""], "serve"],
    [["serve"], "serve"],
    [["--version"], "version"],
    [["-v"], "version"],
    [["version"], "version"],
    [["--help"], "help"],
    [["-h"], "help"],
    [["help"], "help"],
    [["--bogus"], "usage_error"],
    [["-x"], "usage_error"],
    [["serve", "extra"], "usage_error"],
    [["--version", "--help"], "usage_error"],
    [["--port", "8080"], "usage_error"],
    [["backup"], "backup"],
    [["backup", "/tmp/x.tar.gz"], "backup"],
    [["backup", "--bogus"], "usage_error"],
    [["backup", "a", "b"], "usage_error"],
    [["restore", "x.tar.gz", "--data-dir", "/srv/data"], "restore"],
    [["restore", "--data-dir=/srv/data", "x.tar.gz", "--force"], "restore"],
    [["restore", "x.tar.gz"], "usage_error"],
    [["restore", "--data-dir", "/srv/data"], "usage_error"],
    [["restore", "a", "b", "--data-dir", "/srv/data"], "usage_error"],
    [["restore", "x.tar.gz", "--data-dir", "/srv/data", "--yes"], "usage_error"],
  ];
  test.each(cases)("%j → %s", (argv, kind) => {
    expect(parseArgs(argv).kind).toBe(kind);
  });

  test("backup and restore carry what they were given", () => {
    expect(parseArgs(["backup", "nightly.tar.gz"])).toEqual({ kind: "backup", file: "nightly.tar.gz" });
    expect(parseArgs(["backup"])).toEqual({ kind: "backup", file: null });
    expect(parseArgs(["restore", "wahook/x.tar.gz", "--data-dir", "/srv/data", "--force"])).toEqual({ kind: "restore", source: "wahook/x.tar.gz", dataDir: "/srv/data", force: true });
    expect(parseArgs(["restore", "x.tar.gz"])).toEqual({ kind: "usage_error", message: "restore needs one archive (a file or an S3 key) and --data-dir DIR" });
  });

  test("a usage error names the arguments it did not understand", () => {
    expect(parseArgs(["serve", "--bogus"])).toEqual({ kind: "usage_error", message: "unknown arguments: serve --bogus" });
  });
});

describe("the compiled binary", () => {
  let dir: string;
  let exe: string;
  beforeAll(async () => {
    ({ dir, exe } = await binaryInEmptyDir());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the binary in its empty folder with only PATH and `env` set (nothing inherited). */
  async function run(args: string[], env: Record<string, string> = {}, cwd = dir) {
    const proc = Bun.spawn([exe, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr, code };
  }

  test("--version prints the package version and exits 0", async () => {
    const res = await run(["--version"]);
    expect(res).toEqual({ stdout: `wahook ${pkg.version}\n`, stderr: "", code: 0 });
  });

  test("--help lists every setting with its default and exits 0", async () => {
    const res = await run(["--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toStartWith(`wahook ${pkg.version}`);
    const lines = res.stdout.split("\n");
    for (const s of SETTINGS) {
      const at = lines.findIndex((l) => l.trimStart().startsWith(`${s.env} `));
      expect({ env: s.env, listed: at >= 0 }).toEqual({ env: s.env, listed: true });
      expect(lines[at + 1]?.trim()).toBe(`default: ${s.default}; accepts ${s.form}`);
    }
  });

  test("an unknown flag exits 2 with the usage on stderr and nothing on stdout", async () => {
    const res = await run(["--bogus"]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toStartWith("wahook: unknown arguments: --bogus\n");
    expect(res.stderr).toContain("Usage:");
    expect(res.stderr).toContain("WAHOOK_PORT");
  });

  test("backup of a folder without a database: exit 1 naming the folder and the setting, nothing written", async () => {
    const res = await run(["backup", join(dir, "b.tar.gz")], { WAHOOK_DATA_DIR: join(dir, "no-data") });
    expect(res.code).toBe(1);
    expect(res.stderr).toStartWith(`wahook: backup failed: no wahook database at ${join(dir, "no-data", "wahook.db")}`);
    expect(res.stderr).toContain("WAHOOK_DATA_DIR");
    expect(existsSync(join(dir, "b.tar.gz"))).toBe(false);
  });

  test("restore without --data-dir: exit 2 with the usage", async () => {
    const res = await run(["restore", "x.tar.gz"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toStartWith("wahook: restore needs one archive (a file or an S3 key) and --data-dir DIR\n");
  });

  test("extra arguments after serve exit 2", async () => {
    const res = await run(["serve", "now"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown arguments: serve now");
  });

  // Stopping before anything is created: a typo must not leave a half-made data folder.
  test("a bad setting exits 2 naming the variable, before creating the data folder", async () => {
    const data = join(dir, "data-bad-setting");
    const res = await run([], { WAHOOK_LOG_LEVEL: "loud", WAHOOK_DATA_DIR: data });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('wahook: WAHOOK_LOG_LEVEL="loud" is not valid: expected debug, info, warn or error\n');
    expect(existsSync(data)).toBe(false);
  });

  test("a bad setting in .env of the working folder is reported the same way", async () => {
    writeFileSync(join(dir, ".env"), "# settings\nWAHOOK_PORT=99999\n");
    try {
      const res = await run([], { WAHOOK_DATA_DIR: join(dir, "data-dotenv") });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('WAHOOK_PORT="99999" is not valid: expected an integer 1-65535');
    } finally {
      rmSync(join(dir, ".env"));
    }
  });

  // Bun reads the file, in the binary too; the port is checked before the log level.
  test("the real environment wins over .env, and .env's quotes and comments are read", async () => {
    writeFileSync(join(dir, ".env"), 'WAHOOK_PORT=99999\nexport WAHOOK_LOG_LEVEL="loud" # a comment\n');
    try {
      const res = await run([], { WAHOOK_PORT: "0", WAHOOK_DATA_DIR: join(dir, "data-dotenv") });
      expect(res.code).toBe(2);
      expect(res.stderr).toBe('wahook: WAHOOK_LOG_LEVEL="loud" is not valid: expected debug, info, warn or error\n');
    } finally {
      rmSync(join(dir, ".env"));
    }
  });
});
