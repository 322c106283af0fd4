// The compiled binary as a black box: copied alone into an empty folder, started with
// an environment, talked to over HTTP only.
import { copyFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "./app.ts";

/** dist/wahook, or another build to compare against (WAHOOK_TEST_BINARY, e.g. the previous commit's). */
export const BINARY = process.env.WAHOOK_TEST_BINARY ?? resolve(import.meta.dir, "../../dist/wahook");

/** Builds dist/wahook when a test runs without `bun run build` first. */
export async function ensureBinary(): Promise<string> {
  if (existsSync(BINARY)) return BINARY;
  const build = Bun.spawn(["bun", "run", "build"], { cwd: resolve(import.meta.dir, "../.."), stdout: "ignore", stderr: "inherit" });
  if ((await build.exited) !== 0) throw new Error("bun run build failed");
  return BINARY;
}

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

export interface RunningBinary {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  dir: string;
  stderr(): Promise<string>;
}

/** A fresh empty folder holding only a copy of the binary. */
export async function binaryInEmptyDir(): Promise<{ dir: string; exe: string }> {
  const dir = tempDir("wahook-bin-");
  const exe = join(dir, "wahook");
  copyFileSync(await ensureBinary(), exe);
  return { dir, exe };
}

/** `prefix` runs the binary through another program, e.g. `["prlimit", "--nofile=64:64"]`. */
export async function startBinary(exe: string, dir: string, env: Record<string, string>, prefix: string[] = []): Promise<RunningBinary> {
  const port = env.WAHOOK_PORT ?? String(await freePort());
  const proc = Bun.spawn([...prefix, exe], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: dir, WAHOOK_HOST: "127.0.0.1", WAHOOK_PORT: port, WAHOOK_LOG_LEVEL: "warn", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {}
    if (proc.exitCode !== null || Date.now() > until) {
      const err = await new Response(proc.stderr).text();
      throw new Error(`binary did not become healthy (exit ${proc.exitCode}): ${err}`);
    }
    await Bun.sleep(20);
  }
  return { proc, url, dir, stderr: () => new Response(proc.stderr).text() };
}
