// A throwaway certificate authority for TLS tests, made with the openssl command line: its
// certificate, and for each DNS name a key and a certificate it signed for that name only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Leaf {
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.toString()}`);
}

/** P-256 keys: generated in milliseconds, unlike RSA. */
const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function makeCa(names: string[]): { ca: string; leaves: Record<string, Leaf> } {
  const dir = mkdtempSync(join(tmpdir(), "wahook-ca-"));
  try {
    openssl(dir, ["req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=wahook test CA"]);
    const leaves: Record<string, Leaf> = {};
    for (const name of names) {
      openssl(dir, ["req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:${name}\n`);
      openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`]);
      leaves[name] = { cert: readFileSync(join(dir, `${name}.pem`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") };
    }
    return { ca: readFileSync(join(dir, "ca.pem"), "utf8"), leaves };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
