// Server-sent events over a plain streaming response. The admin page reads them with
// `fetch` (EventSource cannot send the API key header); any SSE client with a way to set
// headers works too. A comment line every few seconds keeps proxies, and Bun's own idle
// timeout (10 s), from closing a quiet stream.
const KEEPALIVE_MS = 5_000;

export type Send = (event: string, data: unknown) => void;

/**
 * `start` subscribes and returns its unsubscribe; it may send at once (the current state).
 * The stream ends when the client goes away.
 */
export function eventStream(signal: AbortSignal, start: (send: Send) => () => void): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const write = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const keepalive = setInterval(() => write(": keepalive\n\n"), KEEPALIVE_MS);
      const unsubscribe = start((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      const close = () => {
        if (!open) return;
        open = false;
        clearInterval(keepalive);
        unsubscribe();
        try {
          controller.close();
        } catch {}
      };
      stop = close;
      signal.addEventListener("abort", close, { once: true });
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
}
