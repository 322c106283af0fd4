// Time-ordered ids (`wh_01JD…`): sortable, so cursor pagination is a range scan on the
// primary key, and a listing is in creation order without a second index.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastMs = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function encode(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out.slice(0, length);
}

/** Increments the random part so ids made in the same millisecond still sort in order. */
function increment(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 255) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

export function newId(prefix: string, now = Date.now()): string {
  if (now <= lastMs) lastRandom = increment(lastRandom);
  else {
    lastMs = now;
    lastRandom = crypto.getRandomValues(new Uint8Array(10));
  }
  const time = new Uint8Array(6);
  let t = lastMs;
  for (let i = 5; i >= 0; i--) {
    time[i] = t % 256;
    t = Math.floor(t / 256);
  }
  // 48 bits of time → 10 chars, 80 random bits → 16 chars.
  return `${prefix}_${encode(time, 10)}${encode(lastRandom, 16)}`;
}
