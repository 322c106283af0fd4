// What listings show of a webhook URL: credentials in it are hidden.
import { describe, expect, test } from "bun:test";
import { maskUrl } from "../../src/api/views.ts";

describe("maskUrl", () => {
  const cases: [string, string][] = [
    ["https://example.com/hook?token=abc", "https://example.com/hook?token=abc"],
    ["https://n8n:s3cret@example.com/webhook", "https://n8n:***@example.com/webhook"],
    ["https://tok_123@example.com/webhook", "https://***@example.com/webhook"],
    ["https://:only-pass@example.com/", "https://:***@example.com/"],
    ["https://a%40b:p%3Aw@example.com/", "https://a%40b:***@example.com/"],
    ["not a url", "[invalid URL]"],
  ];
  test.each(cases)("%s", (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });
});
