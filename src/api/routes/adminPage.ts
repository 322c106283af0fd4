// The admin page at `/`: one HTML file embedded in the binary (no CDN, works offline).
// It holds no data itself; everything it shows comes from the API with the key the admin
// enters (kept in the tab's session storage), so the page is public and the API is not.
import { Elysia } from "elysia";
import page from "../admin/page.html" with { type: "text" };

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  // Its own inline script and styles, QR images as data: URLs, the API on this origin; nothing else.
  "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

// bun-types declares .html imports as HTML bundles; imported as text, it is the file's text.
const html = page as unknown as string;

export const adminPage = new Elysia({ name: "admin-page" }).get("/", () => new Response(html, { headers: HEADERS }), { detail: { hide: true } });
