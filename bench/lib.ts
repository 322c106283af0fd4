// What every benchmark prints: one JSON line per figure, next to the baseline measured in
// the same run, so `bench/run.ts` can collect them into the README's table unchanged.
export interface Figure {
  /** The benchmark file, e.g. "delivery". */
  bench: string;
  /** What was measured, e.g. "live latency p50". */
  metric: string;
  value: number;
  unit: string;
  /** The same-run baseline this figure is judged against, if any. */
  baseline?: { metric: string; value: number } | null;
  /** How the target reads, e.g. "≥ 0.7 × baseline" or "< 300 ms". */
  target?: string | null;
  /** Whether the figure meets the target (null when there is none). */
  pass?: boolean | null;
  /** Anything else worth keeping (counts, settings). */
  extra?: Record<string, unknown>;
}

export function emit(f: Figure): void {
  const ratio = f.baseline && f.baseline.value !== 0 ? +(f.value / f.baseline.value).toFixed(3) : null;
  console.log(
    JSON.stringify({
      bench: f.bench,
      metric: f.metric,
      value: +f.value.toFixed(3),
      unit: f.unit,
      baseline: f.baseline ?? null,
      ratio,
      target: f.target ?? null,
      pass: f.pass ?? null,
      ...(f.extra ? { extra: f.extra } : {}),
    }),
  );
}

/** The p-th percentile (0-100) of already sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Resident set size of a process in MB, from /proc (Linux). */
export async function rssMb(pid: number = process.pid): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Peak resident set size of a process in MB (VmHWM), from /proc (Linux). */
export async function peakRssMb(pid: number = process.pid): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/**
 * A process's or thread's name and CPU time in ms from its /proc stat file (Linux, 100
 * ticks a second); null if it has ended. The name may hold spaces and parentheses, so the
 * fields are counted from the last ") ".
 */
export async function readStat(path: string): Promise<{ name: string; user: number; sys: number } | null> {
  const raw = await Bun.file(path).text().catch(() => "");
  if (!raw) return null;
  const fields = raw.slice(raw.lastIndexOf(") ") + 2).split(" ");
  return { name: raw.slice(raw.indexOf("(") + 1, raw.lastIndexOf(")")), user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** CPU time (user + system) a process has used, in ms; this process's own from process.cpuUsage. */
export async function cpuMs(pid: number): Promise<number> {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  const stat = await readStat(`/proc/${pid}/stat`);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.user + stat.sys;
}
