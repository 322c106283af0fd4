// JSON lines on stdout. Plain writes, no transports: pino-style worker transports break
// inside a `bun build --compile` binary. Callers never pass secrets; fields are data.
const RANK = { debug: 10, info: 20, warn: 30, error: 40 } as const;

export type LogLevel = keyof typeof RANK;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  readonly level: LogLevel;
}

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(line + "\n");

/** Errors keep their stack at `error` level: that line is what a bug report starts from. */
function errorFields(value: unknown, withStack: boolean): unknown {
  if (value instanceof Error) return withStack ? { name: value.name, message: value.message, stack: value.stack } : { name: value.name, message: value.message };
  return value;
}

export function createLogger(level: LogLevel = "info", sink: LogSink = stdoutSink, base: Record<string, unknown> = {}): Logger {
  const min = RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = errorFields(v, lvl === "error");
    sink(JSON.stringify(record));
  };
  return {
    level,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
  };
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = createLogger("error", () => {});
