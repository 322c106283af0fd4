// The open-files limit as the daemon reads and raises it (bun:ffi getrlimit/setrlimit), in a
// child process so the test runner's own limit is never touched.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { accountCapacity, countOpenFiles, headroomFor, parseProcLimits, readOpenFilesLimit } from "../src/openFiles.ts";

const MODULE = join(import.meta.dir, "../src/openFiles.ts");

/** Runs `script` (with openFiles.ts imported as `of`) in a child under `prlimit --nofile=soft:hard`. */
async function underLimit(soft: number, hard: number, script: string): Promise<any> {
  const code = `import * as of from ${JSON.stringify(MODULE)}; import { dlopen, FFIType, ptr } from "bun:ffi";
const libc = dlopen("libc.so.6", { setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const lower = (n) => libc.symbols.setrlimit(7, ptr(new BigUint64Array([BigInt(n), BigInt(${hard})])));
${script}`;
  const proc = Bun.spawn(["prlimit", `--nofile=${soft}:${hard}`, "bun", "-e", code], { stdout: "pipe", stderr: "pipe" });
  const [out, err, exit] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (exit !== 0) throw new Error(`child exited ${exit}: ${err}`);
  return JSON.parse(out);
}

describe.skipIf(process.platform !== "linux")("on Linux", () => {
  test("the limit read through getrlimit is the one /proc/self/limits shows", () => {
    const proc = parseProcLimits(readFileSync("/proc/self/limits", "utf8"));
    expect(readOpenFilesLimit()).toEqual({ soft: proc!.soft, hard: proc!.hard, raisedFrom: null });
  });

  test("a soft limit below the hard one is raised to it, and says from what", async () => {
    const got = await underLimit(512, 2048, `lower(300); const before = of.readOpenFilesLimit(); const raised = of.raiseOpenFilesLimit(); console.log(JSON.stringify({ before, raised, after: of.readOpenFilesLimit() }));`);
    expect(got).toEqual({
      before: { soft: 300, hard: 2048, raisedFrom: null },
      raised: { soft: 2048, hard: 2048, raisedFrom: 300 },
      after: { soft: 2048, hard: 2048, raisedFrom: null },
    });
  });

  test("at the hard limit nothing changes", async () => {
    const got = await underLimit(256, 256, `console.log(JSON.stringify(of.raiseOpenFilesLimit()));`);
    expect(got).toEqual({ soft: 256, hard: 256, raisedFrom: null });
  });

  test("open handles are counted; with none left the count says so instead of failing", async () => {
    const got = await underLimit(64, 64, `import { openSync } from "node:fs";
const first = of.countOpenFiles(); openSync("/etc/hostname", "r"); const second = of.countOpenFiles();
try { for (;;) openSync("/etc/hostname", "r"); } catch {}
console.log(JSON.stringify({ grew: second - first, full: of.countOpenFiles() }));`);
    // JSON has no Infinity: "none left" (Infinity in the child) reads back as null.
    expect(got).toEqual({ grew: 1, full: null });
    expect(countOpenFiles()).toBeGreaterThan(2);
  });
});

test("/proc/self/limits lines, including unlimited", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
  expect(parseProcLimits(text)).toEqual({ soft: 1024, hard: 524288 });
  expect(parseProcLimits("Max open files  unlimited  unlimited  files")).toEqual({ soft: null, hard: null });
  expect(parseProcLimits("Max processes 10 10")).toBeNull();
});

test.each([
  [64, 32, 64 - 15 - 32],
  [1024, 102, 1024 - 15 - 102],
  [65_536, 1024, 65_536 - 15 - 1024],
])("limit %d: headroom %d, room for %d accounts with 15 handles in use", (limit, headroom, capacity) => {
  expect(headroomFor(limit)).toBe(headroom);
  expect(accountCapacity(limit, 15)).toBe(capacity);
});
