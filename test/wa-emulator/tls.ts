// Self-signed certificate for wss:// and https media, made fresh at start with openssl. It is its
// own CA (basicConstraints CA:TRUE), so a client trusts it by passing this PEM as `ca`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type TlsMaterial = { key: string; cert: string };

export async function makeTls(): Promise<TlsMaterial> {
	const dir = await mkdtemp(join(tmpdir(), 'wa-emu-tls-'));
	try {
		const key = join(dir, 'key.pem');
		const cert = join(dir, 'cert.pem');
		await promisify(execFile)(process.env.OPENSSL ?? '/usr/bin/openssl', [
			'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
			'-days', '3', '-subj', '/CN=localhost',
			'-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
			'-addext', 'basicConstraints=critical,CA:TRUE',
			'-keyout', key, '-out', cert
		]);
		return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}
