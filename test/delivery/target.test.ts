import { describe, expect, test } from "bun:test";
import type { AllowTargets } from "../../src/config.ts";
import { type AddressClass, checkUrl, classifyAddress, type Lookup, resolveAndCheck } from "../../src/delivery/target.ts";

const NONE: AllowTargets = { loopback: false, private: false, cidrs: [] };
const LOOPBACK: AllowTargets = { loopback: true, private: false, cidrs: [] };
const PRIVATE: AllowTargets = { loopback: false, private: true, cidrs: [] };
const ALL: AllowTargets = { loopback: true, private: true, cidrs: ["0.0.0.0/0", "::/0"] };
const CIDR: AllowTargets = { loopback: false, private: false, cidrs: ["10.1.0.0/16", "fd12::/16", "127.0.0.2/32"] };

describe("classifyAddress", () => {
  const cases: [string, AddressClass][] = [
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["93.184.216.34", "public"],
    ["100.63.255.255", "public"],
    ["100.128.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.32.0.0", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.10", "private"],
    ["100.64.0.1", "private"],
    ["100.127.255.255", "private"],
    ["169.254.0.1", "link_local"],
    ["169.254.170.2", "link_local"],
    ["169.254.169.254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["2606:4700:4700::1111", "public"],
    ["2001:4860:4860::8888", "public"],
    ["[2001:4860:4860::8888]", "public"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf:ffff::1", "link_local"],
    ["fd00:ec2::254", "metadata"],
    ["fd00:ec2:0::254", "metadata"],
    ["fd00:ec2::253", "private"],
    ["fc00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["fec0::1", "reserved"],
    ["100::1", "reserved"],
    ["::7f00:1", "reserved"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::8.8.8.8", "public"],
    ["example.com", "reserved"],
    ["", "reserved"],
    ["256.1.1.1", "reserved"],
  ];
  test.each(cases)("%s → %s", (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
});

const privateHint = (kw: string) =>
  `To allow it, set WAHOOK_ALLOW_TARGETS=${kw} (or list ranges, e.g. WAHOOK_ALLOW_TARGETS=loopback,private,10.1.0.0/16).`;

describe("checkUrl", () => {
  type Expect = { href: string } | { code: string; message?: string };
  const forbidden = (what: string, label: string): Expect => ({
    code: "target_forbidden",
    message: `${what} is a ${label} address; webhooks are never sent there.`,
  });
  const cases: [raw: string, allow: AllowTargets, expected: Expect][] = [
    ["https://example.com/hook", NONE, { href: "https://example.com/hook" }],
    ["http://example.com", NONE, { href: "http://example.com/" }],
    ["HTTPS://Example.COM:8443/a?b=1#c", NONE, { href: "https://example.com:8443/a?b=1#c" }],
    ["https://n8n:s3cret@example.com/webhook", NONE, { href: "https://n8n:s3cret@example.com/webhook" }],
    ["http://8.8.8.8/x", NONE, { href: "http://8.8.8.8/x" }],
    ["http://[2606:4700:4700::1111]/", NONE, { href: "http://[2606:4700:4700::1111]/" }],
    // a name that resolves to loopback is caught at send time, not here
    ["http://internal.example/", NONE, { href: "http://internal.example/" }],
    ["ftp://example.com/", NONE, { code: "target_scheme", message: "Only http: and https: URLs are allowed, not ftp:" }],
    ["file:///etc/passwd", NONE, { code: "target_scheme" }],
    ["javascript:alert(1)", NONE, { code: "target_scheme" }],
    ["ws://example.com/", NONE, { code: "target_scheme" }],
    ["example.com/hook", NONE, { code: "target_invalid", message: "Not an absolute URL; expected e.g. https://example.com/hook." }],
    ["http://", NONE, { code: "target_invalid" }],
    ["", NONE, { code: "target_invalid" }],
    ["http://exa mple.com/", NONE, { code: "target_invalid" }],
    ["http://[fe80::1%25eth0]/", NONE, { code: "target_invalid" }],
    [`https://example.com/${"a".repeat(2048 - 20)}`, NONE, { href: `https://example.com/${"a".repeat(2028)}` }],
    [`https://example.com/${"a".repeat(2048 - 19)}`, NONE, { code: "target_too_long", message: "The URL is 2049 characters long; at most 2048 are allowed." }],
    [`https://example.com/${"a b".repeat(500)}`, NONE, { code: "target_too_long", message: "The URL is 2520 characters long; at most 2048 are allowed." }],
    ["http://169.254.169.254/latest/meta-data/", ALL, forbidden("169.254.169.254", "cloud metadata")],
    ["http://2852039166/", ALL, forbidden("169.254.169.254", "cloud metadata")],
    ["http://0xA9FEA9FE/", ALL, forbidden("169.254.169.254", "cloud metadata")],
    ["http://0251.0376.0251.0376/", ALL, forbidden("169.254.169.254", "cloud metadata")],
    ["http://169.254.169.254./", ALL, forbidden("169.254.169.254", "cloud metadata")],
    ["http://169.254.1.1/", ALL, forbidden("169.254.1.1", "link-local")],
    ["http://[fe80::1]/", ALL, forbidden("[fe80::1]", "link-local")],
    ["http://[fd00:ec2::254]/", ALL, forbidden("[fd00:ec2::254]", "cloud metadata")],
    ["http://[::ffff:169.254.169.254]/", ALL, forbidden("[::ffff:a9fe:a9fe]", "cloud metadata")],
    ["http://[::ffff:a9fe:a9fe]/", ALL, forbidden("[::ffff:a9fe:a9fe]", "cloud metadata")],
    ["http://0.0.0.0:8080/", ALL, forbidden("0.0.0.0", "unspecified")],
    ["http://0/", ALL, forbidden("0.0.0.0", "unspecified")],
    ["http://[::]/", ALL, forbidden("[::]", "unspecified")],
    ["http://224.0.0.1/", ALL, forbidden("224.0.0.1", "multicast")],
    ["http://255.255.255.255/", ALL, forbidden("255.255.255.255", "reserved (special-purpose)")],
    ["http://127.0.0.1:5678/webhook", NONE, { code: "target_private", message: `127.0.0.1 is a loopback address, refused by default. ${privateHint("loopback")}` }],
    ["http://0x7f.1/", NONE, { code: "target_private" }],
    ["http://2130706433/", NONE, { code: "target_private" }],
    ["http://[::1]/", NONE, { code: "target_private", message: `[::1] is a loopback address, refused by default. ${privateHint("loopback")}` }],
    ["http://[::ffff:127.0.0.1]/", NONE, { code: "target_private" }],
    ["http://localhost:5678/", NONE, { code: "target_private", message: `localhost is a loopback address, refused by default. ${privateHint("loopback")}` }],
    ["http://n8n.localhost/", NONE, { code: "target_private" }],
    ["http://localhost./", NONE, { code: "target_private" }],
    ["http://mylocalhost/", NONE, { href: "http://mylocalhost/" }],
    ["http://127.0.0.1:5678/webhook", LOOPBACK, { href: "http://127.0.0.1:5678/webhook" }],
    ["http://[::1]:5678/", LOOPBACK, { href: "http://[::1]:5678/" }],
    ["http://localhost:5678/", LOOPBACK, { href: "http://localhost:5678/" }],
    ["http://127.0.0.1/", PRIVATE, { code: "target_private" }],
    ["http://10.0.0.5/", NONE, { code: "target_private", message: `10.0.0.5 is a private address, refused by default. ${privateHint("private")}` }],
    ["http://192.168.1.2/", LOOPBACK, { code: "target_private" }],
    ["http://[fd12:3456::1]/", NONE, { code: "target_private" }],
    ["http://100.64.1.1/", NONE, { code: "target_private" }],
    ["http://10.0.0.5/", PRIVATE, { href: "http://10.0.0.5/" }],
    ["http://172.20.0.3:3000/", PRIVATE, { href: "http://172.20.0.3:3000/" }],
    ["http://[fd12:3456::1]/", PRIVATE, { href: "http://[fd12:3456::1]/" }],
    ["http://10.1.2.3/", CIDR, { href: "http://10.1.2.3/" }],
    ["http://10.2.0.1/", CIDR, { code: "target_private" }],
    ["http://[fd12::9]/", CIDR, { href: "http://[fd12::9]/" }],
    ["http://[::ffff:10.1.0.9]/", CIDR, { href: "http://[::ffff:a01:9]/" }],
    ["http://[64:ff9b::10.1.0.9]/", CIDR, { href: "http://[64:ff9b::a01:9]/" }],
    ["http://127.0.0.2/", CIDR, { href: "http://127.0.0.2/" }],
    ["http://127.0.0.3/", CIDR, { code: "target_private" }],
    ["http://100.100.100.200/", ALL, forbidden("100.100.100.200", "cloud metadata")],
  ];
  const short = (raw: string) => (raw.length > 60 ? `${raw.slice(0, 40)}… (${raw.length} chars)` : raw);
  test.each(cases.map(([raw, allow, expected]) => [short(raw), raw, allow, expected] as const))("%s", (_name, raw, allow, expected) => {
    const result = checkUrl(raw, allow);
    if ("href" in expected) {
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.url.href).toBe(expected.href);
    } else {
      expect(result).toMatchObject({ ok: false, ...expected });
    }
  });
});

describe("resolveAndCheck", () => {
  const dns: Record<string, string[]> = {
    "hooks.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "v6only.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": ["93.184.216.34", "169.254.169.254"],
    "mixed-v6.example": ["93.184.216.34", "fd00:ec2::254"],
    "rebind.example": ["8.8.8.8", "127.0.0.1"],
    "localhost": ["::1", "127.0.0.1"],
    "lan.example": ["10.1.5.5"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "zone.example": ["fe80::1%eth0"],
    "empty.example": [],
  };
  const calls: string[] = [];
  const lookup: Lookup = async (hostname) => {
    calls.push(hostname);
    const addresses = dns[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

  type Expect = { address: string; family: 4 | 6 } | { code: string; message?: string };
  const cases: [host: string, allow: AllowTargets, expected: Expect][] = [
    ["hooks.example", NONE, { address: "93.184.216.34", family: 4 }],
    ["v6only.example", NONE, { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 }],
    ["metadata.example", ALL, { code: "target_forbidden", message: "metadata.example resolves to 169.254.169.254, a cloud metadata address; webhooks are never sent there." }],
    ["mixed.example", ALL, { code: "target_forbidden" }],
    ["mixed-v6.example", ALL, { code: "target_forbidden" }],
    ["mapped.example", ALL, { code: "target_forbidden" }],
    ["zone.example", ALL, { code: "target_forbidden" }],
    ["rebind.example", NONE, { code: "target_private", message: `rebind.example resolves to 127.0.0.1, a loopback address, refused by default. ${privateHint("loopback")}` }],
    ["rebind.example", LOOPBACK, { address: "8.8.8.8", family: 4 }],
    ["localhost", NONE, { code: "target_private" }],
    ["localhost", LOOPBACK, { address: "::1", family: 6 }],
    ["lan.example", NONE, { code: "target_private", message: `lan.example resolves to 10.1.5.5, a private address, refused by default. ${privateHint("private")}` }],
    ["lan.example", CIDR, { address: "10.1.5.5", family: 4 }],
    ["nowhere.example", NONE, { code: "target_unresolved", message: "Could not resolve nowhere.example (ENOTFOUND)." }],
    ["empty.example", NONE, { code: "target_unresolved", message: "Could not resolve empty.example (no addresses)." }],
    ["8.8.8.8", NONE, { address: "8.8.8.8", family: 4 }],
    ["[2606:4700:4700::1111]", NONE, { address: "2606:4700:4700::1111", family: 6 }],
    ["169.254.169.254", ALL, { code: "target_forbidden" }],
    ["[::1]", NONE, { code: "target_private" }],
    ["[::1]", LOOPBACK, { address: "::1", family: 6 }],
  ];
  test.each(cases)("%s", async (host, allow, expected) => {
    const result = await resolveAndCheck(host, allow, lookup);
    if ("address" in expected) expect(result).toEqual({ ok: true, ...expected });
    else expect(result).toMatchObject({ ok: false, ...expected });
  });

  test("literal addresses are not looked up", async () => {
    calls.length = 0;
    await resolveAndCheck("8.8.8.8", NONE, lookup);
    await resolveAndCheck("[::1]", LOOPBACK, lookup);
    expect(calls).toEqual([]);
  });
});
