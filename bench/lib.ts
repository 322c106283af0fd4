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
