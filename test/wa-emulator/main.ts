// Standalone emulator: `bun test/wa-emulator/main.ts --port 7780 [--admin-port 7781] [--tls]
// [--seed S] [--host 127.0.0.1] [--history-messages N] [--media-links whatsapp|local]`.
// Prints one JSON line with its URLs when ready; stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startAdmin } from './admin.ts';
import { startEmulator } from './emulator.ts';
import { ROOT_PUBLIC_KEY_HEX } from './noise.ts';

const { values } = parseArgs({
	options: {
		port: { type: 'string', default: '0' },
		'admin-port': { type: 'string', default: '0' },
		host: { type: 'string', default: '127.0.0.1' },
		seed: { type: 'string', default: 'wa-emulator' },
		tls: { type: 'boolean', default: false },
		'history-messages': { type: 'string', default: '0' },
		'history-chats': { type: 'string', default: '3' },
		'no-history': { type: 'boolean', default: false },
		'media-links': { type: 'string', default: 'whatsapp' },
		verbose: { type: 'boolean', default: false }
	}
});

const emu = await startEmulator({
	port: Number(values.port),
	host: values.host,
	seed: values.seed,
	tls: values.tls,
	mediaLinks: values['media-links'] === 'local' ? 'local' : 'whatsapp',
	history: { enabled: !values['no-history'], messages: Number(values['history-messages']), chats: Number(values['history-chats']) },
	log: values.verbose ? (...a: unknown[]) => console.error('[wa-emulator]', ...a) : undefined
});
const admin = startAdmin(emu, Number(values['admin-port']), values.host!);
emu.adminUrl = admin.url;
console.log(
	JSON.stringify({
		ready: true,
		url: emu.url,
		wssUrl: emu.wssUrl,
		mediaUrl: emu.mediaUrl,
		mediaHttpsUrl: emu.mediaHttpsUrl,
		adminUrl: admin.url,
		rootPublicKeyHex: ROOT_PUBLIC_KEY_HEX
	})
);
const stop = async () => {
	await admin.stop();
	await emu.close();
	process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
