// JSON bodies, read with a hard cap. Content-Length is checked first; a body without one
// (chunked) is counted while it streams, so a 2 MB upload is refused after 1 MiB either way.
import { ApiError } from "../errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The shapes no route takes: nested more than 32 levels (none nests more than 4), or an
 * array or object of more than 1,000 entries (the longest list any route takes is
 * `chat_ids`, 1,000). Both are refused before parsing: 10,000 levels overflowed the
 * validator's stack and stalled the daemon for seconds, and 100,000 entries cost the
 * validator 100 ms or more to describe while every other request waited.
 */
export const JSON_LIMITS = { depth: 32, entries: 1000 };

/** One pass over the text, no parse: which limit does it break, if any? */
export function jsonShapeProblem(text: string, limits = JSON_LIMITS): "json_too_deep" | "json_too_wide" | null {
  // commas[d]: commas seen so far directly inside the container open at depth d.
  const commas = new Int32Array(limits.depth + 1);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limits.depth) return "json_too_deep";
      commas[depth] = 0;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 44 /* , */ && depth > 0 && ++commas[depth]! >= limits.entries) return "json_too_wide";
  }
  return null;
}

export function checkDeclaredLength(request: Request): void {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw new ApiError("payload_too_large");
}

async function readCapped(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new ApiError("payload_too_large");
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export async function parseJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type");
  const text = await readCapped(request);
  if (text.trim() === "") return undefined;
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError("unsupported_media_type", `Content-Type ${type.split(";")[0]} is not accepted; send 'Content-Type: application/json'.`);
  }
  const shape = jsonShapeProblem(text);
  if (shape) throw new ApiError(shape);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError("malformed_json", `The body is not valid JSON: ${(e as Error).message}`);
  }
  // JSON.parse refuses raw control characters in strings; only an escape can make one.
  const bad = /\\u00[01]/i.test(text) ? controlCharacterAt(value) : null;
  if (bad) {
    const field = ["body", ...bad].join(".");
    throw new ApiError("validation_failed", `${field}: control characters (U+0000-U+001F other than tab and line breaks) are not accepted.`, [{ field, message: "contains a control character" }]);
  }
  return value;
}

// Names, URLs and ids end up in logs, CSV exports and receivers' databases, where a NUL
// truncates or corrupts them; JSON lets a caller write one as \u0000.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const CONTROL_ALL = new RegExp(CONTROL.source, "g");

/** The path (keys, shown safely) to the first key or string holding a control character, or null. */
function controlCharacterAt(value: unknown): string[] | null {
  if (typeof value === "string") return CONTROL.test(value) ? [] : null;
  if (value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = controlCharacterAt(value[i]);
      if (found) return [String(i), ...found];
    }
    return null;
  }
  for (const key in value) {
    const shown = (key.length > 50 ? `${key.slice(0, 50)}…` : key).replace(CONTROL_ALL, "?");
    if (CONTROL.test(key)) return [shown];
    const found = controlCharacterAt((value as Record<string, unknown>)[key]);
    if (found) return [shown, ...found];
  }
  return null;
}
