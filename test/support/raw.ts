// Raw HTTP/1.x over a TCP socket: the request goes out byte for byte as written, with
// whatever request line and headers a hostile client would send. `fetch` cannot do this:
// it normalises the target, adds a Host header and refuses duplicates.
import { connect } from "node:net";

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: string;
  body: string;
  /** Everything the server sent. */
  raw: string;
}

/** Sends `request` (CRLF line endings are the caller's job) and reads until the server closes. */
export function rawRequest(port: number, request: string | Uint8Array, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      // One answer is all we want: stop once its body is complete.
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) socket.end();
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString("latin1");
      const end = raw.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
      resolve({ status, headers: end < 0 ? raw : raw.slice(0, end), body: end < 0 ? "" : raw.slice(end + 4), raw });
    });
  });
}

/** A request with CRLF line endings; `body` gets a Content-Length unless headers already say how it is framed. */
export function httpRequest(requestLine: string, headers: string[], body = ""): string {
  const framed = headers.some((h) => /^(content-length|transfer-encoding):/i.test(h));
  const all = [...headers, ...(body && !framed ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), "Connection: close"];
  return `${requestLine}\r\n${all.map((h) => `${h}\r\n`).join("")}\r\n${body}`;
}
