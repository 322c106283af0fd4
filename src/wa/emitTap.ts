// Baileys sends a message's receipt and only then emits the message, through an event
// buffer that may hold it: during the catch-up after a login for seconds (until WhatsApp
// says its offline queue is done), otherwise until a later flush. Listening with `ev.on`
// therefore saw messages whose receipts had long left; a crash in between lost them, as
// WhatsApp had been told they arrived. Taken at the moment Baileys emits them, they reach
// the group commit in the same turn as their receipt, so the frame gate holds the receipt
// until they are stored.
import type { BaileysEventMap, WASocket } from "baileys";

type Emit = (event: string, data: unknown) => boolean;

/** Calls `listener` for every `event` Baileys emits, when it emits it, before its buffer. */
export function onEmit<K extends keyof BaileysEventMap>(sock: WASocket, event: K, listener: (data: BaileysEventMap[K]) => void): void {
  // Baileys calls `ev.emit(…)` on this very object everywhere, so replacing the method
  // sees every emission; the original still runs, for Baileys' own listeners.
  const ev = sock.ev as unknown as { emit: Emit };
  const emit = ev.emit.bind(ev);
  ev.emit = (name, data) => {
    if (name === event) listener(data as BaileysEventMap[K]);
    return emit(name, data);
  };
}
