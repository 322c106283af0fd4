// Where webhook requests may go (README "Security notes", Webhook targets). The URL is
// checked when a webhook is saved and the resolved addresses again at send time, so a
// DNS name that later points at the metadata service or loopback is refused too.
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { AllowTargets } from "../config.ts";
import type { TargetRefusalCode } from "../domain.ts";

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
  | TargetRefusalCode
  /** The DNS name did not resolve (at send time this is a `dns` failed attempt). */
  | "target_unresolved";

export interface TargetError {
  ok: false;
  code: TargetErrorCode;
  message: string;
}

const MAX_URL_LENGTH = 2048;

interface Ip {
  address: string;
  family: "ipv4" | "ipv6";
}

/** The address as BlockList reads it, or null when the text is not an IP address. */
function parseIp(text: string): Ip | null {
  // URL hostnames bracket IPv6; resolvers may append a zone (fe80::1%eth0).
  const address = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const family = isIP(address);
  if (family === 0) return null;
  return { address, family: family === 4 ? "ipv4" : "ipv6" };
}

// BlockList matches IPv4-mapped addresses (::ffff:a.b.c.d) against IPv4 ranges by itself.
// NAT64 addresses (64:ff9b::a.b.c.d) reach the embedded IPv4 address too, so every IPv4
// range is also entered as its NAT64 twin.
function ranges(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = "", prefix] = cidr.split("/");
    if (isIP(network) === 4) {
      list.addSubnet(network, Number(prefix), "ipv4");
      list.addSubnet(`64:ff9b::${network}`, 96 + Number(prefix), "ipv6");
    } else {
      list.addSubnet(network, Number(prefix), "ipv6");
    }
  }
  return list;
}

// First match wins: single metadata addresses come before the ranges that hold them
// (100.100.100.200, Alibaba Cloud's, is inside the shared 100.64/10).
const CLASSES: [AddressClass, BlockList][] = [
  ["metadata", ranges(["169.254.169.254/32", "100.100.100.200/32", "fd00:ec2::254/128"])],
  ["unspecified", ranges(["0.0.0.0/8", "::/128"])],
  ["loopback", ranges(["127.0.0.0/8", "::1/128"])],
  ["private", ranges(["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])],
  ["link_local", ranges(["169.254.0.0/16", "fe80::/10"])],
  ["multicast", ranges(["224.0.0.0/4", "ff00::/8"])],
  // 240.0.0.0/4 includes 255.255.255.255.
  ["reserved", ranges(["192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "2001:db8::/32"])],
  // IPv4 outside the special ranges is public; IPv6 is public only inside 2000::/3.
  ["public", ranges(["0.0.0.0/0", "2000::/3"])],
];

/** Text that is not an IP address is "reserved": whatever we cannot read is refused. */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  if (!parsed) return "reserved";
  return CLASSES.find(([, list]) => list.check(parsed.address, parsed.family))?.[0] ?? "reserved";
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
  return ip !== null && ranges(cidrs).check(ip.address, ip.family);
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
    return judge(address, classifyAddress(address), allow) ?? { ok: true, address, family: literal.family === "ipv4" ? 4 : 6 };
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
