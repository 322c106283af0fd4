// The process's open-files limit (RLIMIT_NOFILE): read it, raise the soft limit to the hard
// one, count the handles in use, and how many WhatsApp accounts fit under it. Every account
// holds one socket; when Bun itself cannot get a handle (a new thread, its HTTP client's
// first request) it exits with "ran out of file descriptors", taking every account down.
// So the daemon budgets handles (wa/fdBudget.ts) and keeps `headroomFor(limit)` free.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readdirSync, readFileSync } from "node:fs";

export interface OpenFilesLimit {
  /** The limit in force, or null where this platform does not say. */
  soft: number | null;
  hard: number | null;
  /** The soft limit before this process raised it, when it did. */
  raisedFrom: number | null;
}

/** RLIMIT_NOFILE's number and the C library that has getrlimit/setrlimit, per platform. */
const PLATFORM: Partial<Record<NodeJS.Platform, { resource: number; libc: string }>> = {
  linux: { resource: 7, libc: "libc.so.6" },
  darwin: { resource: 8, libc: "libSystem.B.dylib" },
};

/** rlim_t is 64 bits on both; RLIM_INFINITY is all ones. */
const INFINITE = 2n ** 64n - 1n;

type Rlimit = { soft: bigint; hard: bigint };

/** getrlimit/setrlimit through bun:ffi (Bun has no setrlimit of its own; this works in a compiled binary). */
function libc(): { get(): Rlimit | null; set(limit: Rlimit): boolean } | null {
  const platform = PLATFORM[process.platform];
  if (!platform) return null;
  try {
    const lib = dlopen(platform.libc, {
      getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
      setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    });
    return {
      get() {
        const buf = new BigUint64Array(2);
        return lib.symbols.getrlimit(platform.resource, ptr(buf)) === 0 ? { soft: buf[0]!, hard: buf[1]! } : null;
      },
      set(limit) {
        return lib.symbols.setrlimit(platform.resource, ptr(new BigUint64Array([limit.soft, limit.hard]))) === 0;
      },
    };
  } catch {
    // Another C library (musl) or none: the limit can still be read on Linux, below.
    return null;
  }
}

const asNumber = (n: bigint): number | null => (n === INFINITE ? null : Number(n));

/** "Max open files  1024  524288  files" in /proc/self/limits. */
export function parseProcLimits(text: string): { soft: number | null; hard: number | null } | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return null;
  const value = (s: string) => (s === "unlimited" ? null : Number(s));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/** The limit as it stands, without changing it. */
export function readOpenFilesLimit(): OpenFilesLimit {
  const current = libc()?.get();
  if (current) return { soft: asNumber(current.soft), hard: asNumber(current.hard), raisedFrom: null };
  try {
    const parsed = parseProcLimits(readFileSync("/proc/self/limits", "utf8"));
    if (parsed) return { ...parsed, raisedFrom: null };
  } catch {}
  return { soft: null, hard: null, raisedFrom: null };
}

/**
 * Raises the soft limit to the hard limit (what an unprivileged process may do) and says
 * where it ended. Bun raises it at start itself; this makes sure whatever runs us did not
 * leave it lower, and reads the figure the budget is made from.
 */
export function raiseOpenFilesLimit(): OpenFilesLimit {
  const lib = libc();
  const current = lib?.get();
  if (!lib || !current) return readOpenFilesLimit();
  // An infinite hard limit is not a value the kernel takes for open files: leave it be.
  if (current.soft >= current.hard || current.hard === INFINITE) return { soft: asNumber(current.soft), hard: asNumber(current.hard), raisedFrom: null };
  if (!lib.set({ soft: current.hard, hard: current.hard })) return { soft: asNumber(current.soft), hard: asNumber(current.hard), raisedFrom: null };
  const after = lib.get() ?? current;
  return { soft: asNumber(after.soft), hard: asNumber(after.hard), raisedFrom: asNumber(current.soft) };
}

/** Handles this process has open, or null where the platform does not list them. */
export function countOpenFiles(): number | null {
  const dir = process.platform === "linux" ? "/proc/self/fd" : process.platform === "darwin" ? "/dev/fd" : null;
  if (!dir) return null;
  try {
    // The listing's own handle is in it.
    return readdirSync(dir).length - 1;
  } catch (error) {
    // Listing needs a handle too: failing for want of one means none is left.
    if ((error as NodeJS.ErrnoException).code === "EMFILE") return Number.POSITIVE_INFINITY;
    return null;
  }
}

/**
 * Handles kept free of WhatsApp sockets: API clients, webhook connections, media downloads
 * and files, the checkpoint thread and backups. A tenth of the limit, at least 32 (small
 * limits) and at most 1,024 (a large limit has room to spare anyway).
 */
export function headroomFor(limit: number): number {
  return Math.min(1024, Math.max(32, Math.round(limit / 10)));
}

/** How many accounts may hold a WhatsApp socket at once: the limit less what is in use and the headroom. */
export function accountCapacity(limit: number | null, inUse: number): number {
  if (limit === null) return Number.POSITIVE_INFINITY;
  return Math.max(0, limit - inUse - headroomFor(limit));
}
