// Holds what a WhatsApp socket sends until the end-of-turn commit (store/groupCommit.ts).
// Baileys confirms a message to WhatsApp (its receipt) before it hands the message over,
// so a crash between the two lost the message: WhatsApp had its receipt and would not
// send it again. With the gate, every frame a socket sends in a turn — receipts
// included — goes out only after the commit that stored what that turn received. If the
// commit fails, the frames stay held, WhatsApp keeps the messages, and a later connection
// gets them again. This holds only because the messages are taken when Baileys emits them
// (emitTap.ts), in the turn of their receipt, not when its event buffer lets them out.
//
// Baileys is told at once that a frame was sent (it awaits that before it hands the
// message over, in the same turn); the bytes follow, in order, a moment later. When
// Baileys closes a socket, the commit happens first and its frames go out before the close.
import type { WASocket } from "baileys";
import type { Logger } from "../log.ts";
import type { GroupCommit } from "../store/groupCommit.ts";

type Callback = (error?: Error) => void;
interface WsLike {
  send(data: unknown, options?: unknown, cb?: Callback): void;
  close(...args: unknown[]): void;
  prependListener?(event: "message", listener: () => void): void;
}

/**
 * While WhatsApp streams frames, the turn never ends (Bun reads the socket dry before it
 * runs anything else), so the commit also runs when the next frame arrives, at most this
 * often. Before a frame is handed to Baileys, what the earlier frames started has run as
 * far as it can without waiting for I/O: the same state as at a turn's end.
 */
const STREAM_COMMIT_MS = 200;

export class FrameGate {
  private held: { send: WsLike["send"]; data: unknown; options: unknown }[] = [];

  constructor(
    private readonly commit: GroupCommit,
    private readonly log: Logger,
  ) {
    commit.onCommitted(this.release);
  }

  /** From now on this socket's frames wait for the next commit. */
  wrap(sock: WASocket): void {
    const socket = (sock.ws as unknown as { socket: WsLike | null }).socket;
    if (!socket) return;
    const send = socket.send.bind(socket);
    socket.send = (data: unknown, options?: unknown, cb?: Callback) => {
      if (typeof options === "function") [options, cb] = [undefined, options as Callback];
      this.held.push({ send, data, options });
      this.commit.schedule();
      if (cb) queueMicrotask(() => cb());
    };
    socket.prependListener?.("message", () => this.commit.flushIfDue(STREAM_COMMIT_MS));
    // A socket closes right after its last words (a logout's "remove this device"): commit
    // now, so they go out before it does.
    const close = socket.close.bind(socket);
    socket.close = (...args: unknown[]) => {
      this.commit.flushNow(true);
      close(...args);
    };
  }

  /** Frames waiting for a commit (tests). */
  get size(): number {
    return this.held.length;
  }

  private release = (): void => {
    const frames = this.held;
    this.held = [];
    for (const f of frames) {
      try {
        f.send(f.data, f.options, (error) => {
          if (error) this.log.debug("a held WhatsApp frame could not be sent (socket closed)", { error });
        });
      } catch (error) {
        this.log.debug("a held WhatsApp frame could not be sent (socket closed)", { error });
      }
    }
  };
}
