// The start of every bare-Baileys bench child (bare-baileys.ts, peer-gateway.ts): pair with
// the emulator through a QR printed as a JSON line for the parent to scan, reconnect with
// the new credentials (as after WhatsApp's 515), and wait until the offline queue is done.
import { startClient } from "../test/wa-emulator/client.ts";

export const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

export async function pairedClient(url: string) {
  const first = startClient({ url, history: false });
  say({ qr: await first.qr() });
  await first.closed();
  first.end();
  const client = startClient({ url, history: false, auth: first.auth });
  await client.open();
  await client.waitFor("connection.update", (u) => u.receivedPendingNotifications === true);
  return client;
}
