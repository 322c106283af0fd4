// JSON bodies, read with a hard cap. Content-Length is checked first; a body without one
// (chunked) is counted while it streams, so a 2 MB upload is refused after 1 MiB either way.
import { ApiError } from "../errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

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
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError("malformed_json", `The body is not valid JSON: ${(e as Error).message}`);
  }
}
