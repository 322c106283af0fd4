// Just enough of the POSIX tar format (ustar) for backup archives: regular files, short
// names, streamed in and out. Our own rather than a library: an archive is written with a
// handful of known entries, and a restore must refuse anything else (links, absolute or
// `..` names, devices) — a general extractor would first have to be fenced in.
const BLOCK = 512;

export interface TarEntryHeader {
  name: string;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export class TarFormatError extends Error {}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** The 512-byte header of a regular file, owner-only (0600). */
export function tarHeader(entry: TarEntryHeader): Uint8Array {
  const name = Buffer.from(entry.name, "utf8");
  if (name.length > 100) throw new TarFormatError(`tar entry name too long: ${entry.name}`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  h.write(octal(0o600, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(entry.size, 12), 124, "ascii");
  h.write(octal(Math.floor(entry.mtime), 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii");
  h.write("ustar\u000000", 257, "ascii");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** Zero bytes that pad an entry of `size` bytes to the block size. */
export function tarPadding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** Two empty blocks end an archive. */
export const TAR_END = new Uint8Array(BLOCK * 2);

function readOctal(h: Buffer, offset: number, width: number): number {
  const text = h.toString("ascii", offset, offset + width).replace(/[\0 ]+$/g, "").trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError("a tar header holds a field that is not a number");
  return text ? parseInt(text, 8) : 0;
}

function parseHeader(h: Buffer): TarEntryHeader | null {
  if (h.every((b) => b === 0)) return null;
  const stored = readOctal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (sum !== stored) throw new TarFormatError("a tar header's checksum does not match");
  const type = String.fromCharCode(h[156]!);
  if (type !== "0" && type !== "\0") throw new TarFormatError(`the archive holds an entry that is not a regular file (type ${JSON.stringify(type)})`);
  const end = h.indexOf(0, 0);
  const name = h.toString("utf8", 0, end === -1 || end > 100 ? 100 : end);
  return { name, size: readOctal(h, 124, 12), mtime: readOctal(h, 136, 12) };
}

export interface EntrySink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Reads a tar stream and hands each entry's bytes to the sink `onEntry` returns for it
 * (null: read no further, e.g. once the manifest is known). Throws TarFormatError on a
 * damaged or foreign archive, including one that ends in the middle of an entry.
 */
export async function readTar(source: AsyncIterable<Uint8Array>, onEntry: (entry: TarEntryHeader) => EntrySink | null | Promise<EntrySink | null>): Promise<void> {
  let pending = Buffer.alloc(0);
  let entry: { sink: EntrySink; left: number; pad: number } | null = null;
  let ended = false;
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
    for (;;) {
      if (entry) {
        if (entry.left > 0) {
          if (!pending.length) break;
          const take = Math.min(entry.left, pending.length);
          await entry.sink.write(pending.subarray(0, take));
          pending = pending.subarray(take);
          entry.left -= take;
          if (entry.left > 0) break;
        }
        if (pending.length < entry.pad) break;
        pending = pending.subarray(entry.pad);
        await entry.sink.end();
        entry = null;
      }
      if (ended || pending.length < BLOCK) break;
      const header = parseHeader(pending.subarray(0, BLOCK));
      pending = pending.subarray(BLOCK);
      if (!header) {
        ended = true;
        break;
      }
      const sink = await onEntry(header);
      if (!sink) return;
      entry = { sink, left: header.size, pad: tarPadding(header.size).length };
    }
    if (ended) return;
  }
  if (entry || !ended) throw new TarFormatError("the archive ends in the middle (it was cut short)");
}
