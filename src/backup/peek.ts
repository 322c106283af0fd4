// The manifest of an archive, read from its first entry only: a listing decompresses a
// few kilobytes per archive, not the archive.
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { MANIFEST_ENTRY, type Manifest } from "./manifest.ts";
import { readTar } from "./tar.ts";

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The manifest, or null when the archive does not start with one (damaged, foreign). */
export async function peekManifest(source: ReadableStream<Uint8Array>): Promise<Manifest | null> {
  const gunzip = Readable.fromWeb(source as never).pipe(createGunzip());
  let text: string | null = null;
  try {
    await readTar(gunzip, (entry) => {
      if (text !== null || entry.name !== MANIFEST_ENTRY || entry.size > MAX_MANIFEST_BYTES) return null;
      const parts: Buffer[] = [];
      return { write: (chunk) => void parts.push(Buffer.from(chunk)), end: () => void (text = Buffer.concat(parts).toString("utf8")) };
    });
    return text === null ? null : (JSON.parse(text) as Manifest);
  } catch {
    return null;
  } finally {
    gunzip.destroy();
  }
}
