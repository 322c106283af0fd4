// Standard Webhooks v1 signing (standardwebhooks.com). Receivers verify with the
// reference libraries, so the exact byte layout here is the contract.
import { createHmac } from "node:crypto";

const SECRET_PREFIX = "whsec_";

export interface SignInput {
  /** Stable per event: the same on every retry and replay. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact body bytes that will be sent. */
  body: string;
  /** Current secret first, then the previous one while a rotation is in its 24 h overlap. */
  secrets: readonly string[];
  userAgent: string;
}

export function signatureHeaders(input: SignInput): Record<string, string> {
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) {
    throw new RangeError(`timestamp must be whole unix seconds, got ${input.timestamp}`);
  }
  if (input.secrets.length === 0) throw new RangeError("at least one secret is needed to sign");
  const signed = `${input.id}.${input.timestamp}.${input.body}`;
  // A receiver accepts the request if ANY listed signature matches one of its secrets,
  // so during a rotation both the old and the new secret keep working.
  const signatures = [...new Set(input.secrets)].map(
    (secret) => "v1," + createHmac("sha256", secretKey(secret)).update(signed, "utf8").digest("base64"),
  );
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": signatures.join(" "),
    "content-type": "application/json",
    "user-agent": input.userAgent,
  };
}

// The prefix is optional, as in the reference libraries: the key is the base64 part.
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, "base64");
  if (key.length === 0) throw new RangeError("secret has an empty key");
  return key;
}
