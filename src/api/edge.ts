// Where Bun hands a request to the app. Two things are settled here, once, for every
// request: the URL the router sees is absolute (Bun leaves it relative when the Host header
// is missing, empty or malformed, as HTTP/1.0 health checkers send it), and whatever
// escapes the app becomes the catalogue's 500 with the stack in the log, never Bun's
// development page (which shows source lines and the working directory).
import { ApiError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** The stand-in host for requests that named none; routing only reads the path. */
const NO_HOST_BASE = "http://localhost";

export function absoluteRequest(request: Request): Request {
  return request.url.startsWith("/") ? new Request(NO_HOST_BASE + request.url, request) : request;
}

export function internalErrorResponse(error: unknown, log: Logger, fields: Record<string, unknown> = {}): Response {
  log.error("request failed", { ...fields, error });
  return Response.json(new ApiError("internal").toBody(), { status: 500 });
}

/** The options of Bun.serve that concern requests (host, port and limits are the caller's). */
export function edgeHandlers(handle: (request: Request) => Response | Promise<Response>, log: Logger) {
  return {
    development: false,
    fetch: (request: Request) => handle(absoluteRequest(request)),
    error: (error: Error) => internalErrorResponse(error, log),
  } as const;
}
