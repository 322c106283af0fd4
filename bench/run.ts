// `bun run bench`: builds the binary, runs every benchmark one after the other (never in
// parallel: they would measure each other), passes their JSON lines through, and writes
// the figures as a table to bench/RESULTS.md and into the README's "Performance" section
// (bench/accounts.ts's as a table of their own, capacity.ts).
// Usage: bun bench/run.ts [--only startup,live] [--no-readme]
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { capacityTable, inMainTable } from "./capacity.ts";

/** In this order: cheap and independent first. */
const BENCHES = ["startup", "emulator", "delivery", "history", "live", "churn", "recovery", "backup", "accounts"];

const { values } = parseArgs({ options: { only: { type: "string" }, "no-readme": { type: "boolean", default: false } } });
const chosen = values.only ? values.only.split(",") : BENCHES;
const root = join(import.meta.dir, "..");

interface Line {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline: { metric: string; value: number } | null;
  ratio: number | null;
  target: string | null;
  pass: boolean | null;
  extra?: Record<string, unknown>;
}

const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "ignore", stderr: "inherit" });
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);

const figures: Line[] = [];
const failures: string[] = [];
for (const name of chosen) {
  const proc = Bun.spawn(["bun", join(import.meta.dir, `${name}.ts`)], { cwd: root, stdout: "pipe", stderr: "inherit" });
  const decoder = new TextDecoder();
  let rest = "";
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    const chunk = read.value;
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      process.stdout.write(`${line}\n`);
      try {
        const parsed = JSON.parse(line) as Line;
        if (parsed.metric) figures.push(parsed);
      } catch {}
    }
  }
  const code = await proc.exited;
  if (code !== 0) failures.push(`${name} (exit ${code})`);
}

const fmt = (n: number | null | undefined, unit = "") => (n === null || n === undefined ? "" : `${Number.isInteger(n) ? n : n.toFixed(n < 10 ? 2 : 1)}${unit ? ` ${unit}` : ""}`);
const rows = figures.filter(inMainTable).map((f) =>
  [
    f.bench,
    f.metric,
    fmt(f.value, f.unit),
    f.baseline ? `${fmt(f.baseline.value, f.unit)} (${f.baseline.metric})` : "",
    fmt(f.ratio),
    f.target ?? "",
    f.pass === null ? "" : f.pass ? "yes" : "**no**",
  ].join(" | "),
);
const cpu = cpus()[0]?.model ?? "unknown CPU";
const machine = `${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, bun ${Bun.version}`;
const table = [
  `Measured ${machine}, by \`bun run bench\`.`,
  "Each figure is next to the baseline measured in the same run on the same machine; ratios are figure ÷ baseline.",
  "",
  "| bench | figure | value | baseline (same run) | ratio | target | met |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r} |`),
  ...(failures.length ? ["", `Benchmarks that did not finish: ${failures.join(", ")}.`] : []),
].join("\n");

const capacity = capacityTable(figures, machine);

writeFileSync(join(import.meta.dir, "RESULTS.md"), `# Benchmark results\n\n${table}\n${capacity ? `\n## Accounts in one daemon\n\n${capacity}\n` : ""}`);
/** The README's text between `<!-- name:start -->` and `<!-- name:end -->` becomes `body`. */
const replaceBlock = (text: string, name: string, body: string) => {
  const start = `<!-- ${name}:start -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(`<!-- ${name}:end -->`);
  return a >= 0 && b > a ? `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}` : text;
};
if (!values["no-readme"] && !values.only) {
  const readme = join(root, "README.md");
  let text = replaceBlock(readFileSync(readme, "utf8"), "bench", table);
  if (capacity) text = replaceBlock(text, "capacity", capacity);
  writeFileSync(readme, text);
}
process.exit(failures.length ? 1 : 0);
