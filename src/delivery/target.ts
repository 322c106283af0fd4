// Where webhook requests may go (spec/DELIVERY.md "Where requests may go"). The URL is
// checked when a webhook is saved and the resolved addresses again at send time, so a
// DNS name that later points at the metadata service or loopback is refused too.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";

export interface AllowTargets {
  loopback: boolean;
  private: boolean;
  /** Extra ranges that are allowed even though they are loopback or private. */
  cidrs: string[];
}

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link_local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved";

export type TargetErrorCode =
  | "target_scheme"
  | "target_too_long"
  | "target_invalid"
  /** Link-local, metadata, unspecified, multicast, reserved: no config allows them. */
  | "target_forbidden"
  /** Loopback or private, refused unless WAHOOK_ALLOW_TARGETS allows it. */
  | "target_private"
  /** The DNS name did not resolve (at send time this is a `dns` failed attempt). */
  | "target_unresolved";

export interface TargetError {
  ok: false;
  code: TargetErrorCode;
  message: string;
}

const MAX_URL_LENGTH = 2048;

interface Ip {
  family: 4 | 6;
  value: bigint;
}

interface Cidr extends Ip {
  bits: number;
}

const width = (family: 4 | 6) => (family === 4 ? 32 : 128);

function parseIp(text: string): Ip | null {
  // URL hostnames bracket IPv6; resolvers may append a zone (fe80::1%eth0).
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return { family, value: BigInt(v4Number(bare)) };
  if (family === 6) return { family, value: v6Groups(bare).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) };
  return null;
}

// Only called on strings node:net accepted as dotted-quad IPv4.
function v4Number(dotted: string): number {
  return dotted.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

// Only called on strings node:net accepted as IPv6, so at most one "::" and 8 groups.
function v6Groups(text: string): number[] {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const hex = dotted
    ? text.slice(0, dotted.index) + v4AsTwoGroups(v4Number(dotted[1] ?? ""))
    : text;
  const [head = "", tail] = hex.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  if (tail === undefined) return groups(head);
  const left = groups(head);
  const right = groups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function v4AsTwoGroups(n: number): string {
  return `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
}

function parseCidr(text: string): Cidr | null {
  const [address = "", bitsText, extra] = text.split("/");
  const ip = parseIp(address);
  if (!ip || extra !== undefined) return null;
  if (bitsText === undefined) return { ...ip, bits: width(ip.family) };
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  return bits >= 0 && bits <= width(ip.family) ? { ...ip, bits } : null;
}

function contains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  const shift = BigInt(width(ip.family) - cidr.bits);
  return cidr.value >> shift === ip.value >> shift;
}

function table(rows: [string, AddressClass][]): [Cidr, AddressClass][] {
  return rows.map(([text, cls]) => [parseCidr(text) as Cidr, cls]);
}

// First match wins: single metadata addresses come before the ranges that hold them.
const V4_RANGES = table([
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud, inside the shared 100.64/10
  ["100.64.0.0/10", "private"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.169.254/32", "metadata"],
  ["169.254.0.0/16", "link_local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"],
  ["198.51.100.0/24", "reserved"],
  ["203.0.113.0/24", "reserved"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes 255.255.255.255
]);

const V6_RANGES = table([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["fd00:ec2::254/128", "metadata"],
  ["fc00::/7", "private"],
  ["fe80::/10", "link_local"],
  ["ff00::/8", "multicast"],
  ["2001:db8::/32", "reserved"],
  ["2000::/3", "public"],
]);

// IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach the embedded
// IPv4 address, so they are judged as that address.
const EMBEDS_V4 = [parseCidr("::ffff:0:0/96") as Cidr, parseCidr("64:ff9b::/96") as Cidr];

function canonical(ip: Ip): Ip {
  if (ip.family === 6 && EMBEDS_V4.some((range) => contains(range, ip))) {
    return { family: 4, value: ip.value & 0xffffffffn };
  }
  return ip;
}

/** Text that is not an IP address is "reserved": whatever we cannot read is refused. */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  if (!parsed) return "reserved";
  const addr = canonical(parsed);
  const ranges = addr.family === 4 ? V4_RANGES : V6_RANGES;
  const hit = ranges.find(([range]) => contains(range, addr));
  if (hit) return hit[1];
  // IPv4 outside the special ranges is public; IPv6 is public only inside 2000::/3.
  return addr.family === 4 ? "public" : "reserved";
}

const LABELS: Record<AddressClass, string> = {
  public: "public",
  loopback: "loopback",
  private: "private",
  link_local: "link-local",
  metadata: "cloud metadata",
  unspecified: "unspecified",
  multicast: "multicast",
  reserved: "reserved (special-purpose)",
};

function judge(address: string, cls: AddressClass, allow: AllowTargets, hostname?: string): TargetError | null {
  if (cls === "public") return null;
  const what = hostname ? `${hostname} resolves to ${address}, a` : `${address} is a`;
  if (cls !== "loopback" && cls !== "private") {
    return { ok: false, code: "target_forbidden", message: `${what} ${LABELS[cls]} address; webhooks are never sent there.` };
  }
  if (cls === "loopback" ? allow.loopback : allow.private) return null;
  if (inCidrs(address, allow.cidrs)) return null;
  return {
    ok: false,
    code: "target_private",
    message:
      `${what} ${LABELS[cls]} address, refused by default. To allow it, set WAHOOK_ALLOW_TARGETS=${cls} ` +
      `(or list ranges, e.g. WAHOOK_ALLOW_TARGETS=loopback,private,10.1.0.0/16).`,
  };
}

function inCidrs(address: string, cidrs: readonly string[]): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const addr = canonical(ip);
  return cidrs.some((text) => {
    const cidr = parseCidr(text);
    return cidr !== null && contains(cidr, addr);
  });
}

const isLocalhostName = (host: string) => /^(.+\.)?localhost\.?$/.test(host);

/** Checks a webhook URL as the admin enters it; DNS names are checked at send time. */
export function checkUrl(raw: string, allow: AllowTargets): { ok: true; url: URL } | TargetError {
  const tooLong = (length: number): TargetError => ({
    ok: false,
    code: "target_too_long",
    message: `The URL is ${length} characters long; at most ${MAX_URL_LENGTH} are allowed.`,
  });
  if (raw.length > MAX_URL_LENGTH) return tooLong(raw.length);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: "target_invalid", message: "Not an absolute URL; expected e.g. https://example.com/hook." };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, code: "target_scheme", message: `Only http: and https: URLs are allowed, not ${url.protocol}` };
  }
  // Percent-encoding can make the stored form longer than what was typed.
  if (url.href.length > MAX_URL_LENGTH) return tooLong(url.href.length);
  // WHATWG parsing already turned 2852039166, 0xA9FEA9FE and octal forms into dotted IPv4.
  const host = url.hostname;
  const refusal = parseIp(host)
    ? judge(host, classifyAddress(host), allow)
    : isLocalhostName(host)
      ? judge(host, "loopback", allow)
      : null;
  return refusal ?? { ok: true, url };
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Resolves every address of `hostname` and refuses if ANY is refused: a name with one
 * public and one metadata address must not reach the metadata service by chance.
 * Connect to the returned address so a second resolution cannot differ (DNS rebinding).
 */
export async function resolveAndCheck(
  hostname: string,
  allow: AllowTargets,
  lookup: Lookup = systemLookup,
): Promise<{ ok: true; address: string; family: 4 | 6 } | TargetError> {
  const literal = parseIp(hostname);
  if (literal) {
    const address = hostname.replace(/^\[(.*)\]$/, "$1");
    return judge(address, classifyAddress(address), allow) ?? { ok: true, address, family: literal.family };
  }
  let records: { address: string }[];
  try {
    records = await lookup(hostname);
  } catch (error) {
    const reason = (error as { code?: string }).code ?? String(error);
    return { ok: false, code: "target_unresolved", message: `Could not resolve ${hostname} (${reason}).` };
  }
  for (const { address } of records) {
    const refusal = judge(address, classifyAddress(address), allow, hostname);
    if (refusal) return refusal;
  }
  // Every record passed, so every record is a readable IP address (others are refused).
  const [first] = records;
  if (!first) return { ok: false, code: "target_unresolved", message: `Could not resolve ${hostname} (no addresses).` };
  return { ok: true, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
}

/** Parses WAHOOK_ALLOW_TARGETS: a comma list of `loopback`, `private` and CIDRs; empty or `none` allows nothing. */
export function parseAllowTargets(value: string): AllowTargets | { error: string } {
  const allow: AllowTargets = { loopback: false, private: false, cidrs: [] };
  const items = value.split(",").map((item) => item.trim().toLowerCase()).filter((item) => item !== "");
  if (items.length === 1 && items[0] === "none") return allow;
  for (const item of items) {
    if (item === "loopback") allow.loopback = true;
    else if (item === "private") allow.private = true;
    else if (item === "none") return { error: "`none` cannot be combined with other entries" };
    else if (parseCidr(item)) allow.cidrs.push(item);
    else return { error: `"${item}" is not loopback, private, or a CIDR like 10.1.0.0/16 or fd00::/8` };
  }
  return allow;
}

/** The URL for display and logs: the password (or a lone user name, often a token) hidden. */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Nothing unparseable is ever stored; hide it whole rather than guess where secrets are.
    return "[invalid URL]";
  }
  if (parsed.password !== "") parsed.password = "***";
  else if (parsed.username !== "") parsed.username = "***";
  else return url;
  return parsed.href;
}
