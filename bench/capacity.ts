// The README's capacity table: bench/accounts.ts's figures, one column per account count,
// and the sizing they imply. Rendered by bench/run.ts next to the main table; the figures
// with a target (the storm's) stay in the main table too.

export interface CapacityFigure {
  bench: string;
  value: number;
  baseline: { metric: string; value: number } | null;
  target: string | null;
  extra?: Record<string, unknown>;
}

const ROWS: [row: string, label: string, format: (f: CapacityFigure) => string][] = [
  ["rss_steady", "RSS, all open and idle", (f) => `${mb(f.value)} MB`],
  ["rss_peak", "RSS at the reconnect peak (restart, then every connection dropped)", (f) => `${mb(f.value)} MB`],
  ["rss_peak", "… per account above the empty daemon", (f) => `${(f.extra?.per_account_mb as number).toFixed(2)} MB`],
  ["idle_cpu", "idle CPU, all open", (f) => `${f.value.toFixed(1)} % of a core`],
  ["restart", "restart to all open", (f) => seconds(f.value)],
  ["storm", "every connection dropped: all open again (each exactly once)", (f) => `${seconds(f.value)}${f.extra?.not_exactly_once ? ` (${f.extra.not_exactly_once} not once)` : ""}`],
  ["storm_p99", "API p99 during that storm (target < 100 ms)", (f) => `${f.value.toFixed(0)} ms`],
  ["live_p50", "live latency p50 at 1 msg/s per account", (f) => `${f.value.toFixed(0)} ms`],
  ["live_p99", "live latency p99 at 1 msg/s per account", (f) => `${f.value.toFixed(0)} ms`],
  // The figures are only as quiet as the machine was.
  ["live_p99", "machine load average (1 min) at the end of the column", (f) => String(f.extra?.load_1m ?? "")],
];

const mb = (v: number) => v.toFixed(0);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Figures of bench/accounts.ts without a target appear only in the capacity table. */
export const inMainTable = (f: CapacityFigure): boolean => f.bench !== "accounts" || f.target !== null;

export function capacityTable(figures: CapacityFigure[], measuredOn: string): string | null {
  const ours = figures.filter((f) => f.bench === "accounts");
  const counts = [...new Set(ours.map((f) => f.extra?.n as number | undefined).filter((n): n is number => n !== undefined))].sort((a, b) => a - b);
  if (!counts.length) return null;
  const cell = (row: string, n: number, format: (f: CapacityFigure) => string) => {
    const f = ours.find((x) => x.extra?.row === row && x.extra?.n === n);
    return f ? format(f) : "";
  };
  const sizing = ours.filter((f) => f.extra?.row === "sizing").sort((a, b) => (a.extra!.gb as number) - (b.extra!.gb as number));
  const perAccount = sizing[0]?.extra?.mb_per_account as number | undefined;
  return [
    `Measured ${measuredOn}, by \`bun bench/accounts.ts\`,`,
    "against the loopback WhatsApp emulator (not WhatsApp): the compiled binary, the emulator and the",
    "receiver each in a process of their own on the same machine. Emulated accounts have 3 contacts and",
    "no history, so real accounts need more; take these as lower bounds.",
    "",
    `| accounts | ${counts.join(" | ")} |`,
    `|---|${counts.map(() => "---").join("|")}|`,
    ...ROWS.map(([row, label, format]) => `| ${label} | ${counts.map((n) => cell(row, n, format)).join(" | ")} |`),
    ...(sizing.length
      ? [
          "",
          `Sizing by memory, from the RSS at the reconnect peak (a straight line through the columns:`,
          `${perAccount?.toFixed(2)} MB per account) with ${Math.round((sizing[0]!.extra!.share_of_memory as number) * 100)} % of the machine's memory for wahook:`,
          ...sizing.map((f) => `- ${f.extra!.gb} GB VPS: about ${f.value} accounts`),
        ]
      : []),
  ].join("\n");
}
