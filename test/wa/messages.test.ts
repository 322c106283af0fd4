// Every kind of message a phone can send, through the real Baileys inside the daemon, as
// the bytes a webhook receiver gets (README "Payload" and "Message kinds").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { API_KEY, startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

const OWNER = "15550003001";
const ALICE = "4917012345001";
let w: WaWorld;
let account: string;

interface Body {
  event: string;
  chat_id: string;
  chat_type: string;
  chat_title: string | null;
  direction: string;
  sender: { phone: string | null; wa_name: string | null; lid?: string | null };
  participants: { phone: string | null; wa_name: string | null }[];
  user_phone: string;
  user_email: string | null;
  account_id: string;
  history: boolean;
  seq: number;
  timestamp: string;
  message: {
    id: string;
    type: string;
    text: string | null;
    caption: string | null;
    file_name: string | null;
    file_url: string | null;
    mime_type: string | null;
    file_size: number | null;
    quoted_id: string | null;
    location: { latitude: number; longitude: number; name: string | null } | null;
    reaction: { emoji: string; target_id: string } | null;
  };
}

beforeAll(async () => {
  w = await startWaWorld({ seed: "wa-messages", env: { WAHOOK_PUBLIC_URL: "http://127.0.0.1:1" } });
  // PUBLIC_URL must point at the daemon for file_url; the port is known only after start.
  await w.daemon.stop();
  w.env.WAHOOK_PORT = String(await freePort());
  w.env.WAHOOK_PUBLIC_URL = `http://127.0.0.1:${w.env.WAHOOK_PORT}`;
  await w.start();
  await w.webhook({ events: ["message.received", "message.sent", "message.revoked", "message.reaction", "message.updated"] });
  account = await w.pair(OWNER, { pushName: "Shop Owner", email: "owner@example.com" });
});
afterAll(() => w.close());

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

/** The delivered body (of `event`, default the trigger) of the message with this WhatsApp id. */
async function delivered(id: string, event?: string): Promise<Body> {
  const match = (r: { json: unknown }) => {
    const b = r.json as Body;
    return b.message?.id === id && (event ? b.event === event : b.event === "message.received" || b.event === "message.sent");
  };
  const all = await w.sink.waitFor((rs) => rs.some(match), 10_000);
  return all.find(match)!.json as Body;
}

describe("received", () => {
  test("text from a LID-addressed contact: phone not LID, names, participants, account fields", async () => {
    const dev = w.emu.device(OWNER);
    const sent = await dev.sendText({ from: ALICE, text: "Hallo, ist das Paket da?", pushName: "Alice A." });
    const b = await delivered(sent.id);
    expect(b).toMatchObject({
      event: "message.received",
      chat_id: `${ALICE}@c.us`,
      chat_type: "individual",
      chat_title: ALICE,
      direction: "received",
      sender: { phone: ALICE, wa_name: "Alice A." },
      user_phone: OWNER,
      user_email: "owner@example.com",
      account_id: account,
      history: false,
      message: { type: "chat", text: "Hallo, ist das Paket da?", file_url: null, caption: null },
    });
    expect(JSON.stringify(b)).not.toContain("@lid");
    // The account's own name is known only once WhatsApp tells it (app state or an own message).
    const ownName = (await w.account(account)).push_name;
    expect(b.participants).toEqual([
      { phone: ALICE, wa_name: "Alice A." },
      { phone: OWNER, wa_name: ownName },
    ]);
    expect(b.timestamp).toMatch(/^\d{10}$/);
  });

  test("phone-addressed text and a quoted reply", async () => {
    const dev = w.emu.device(OWNER);
    const first = await dev.sendText({ from: "15557000002", text: "first", via: "pn", pushName: "Bob" });
    expect((await delivered(first.id)).sender).toMatchObject({ phone: "15557000002", wa_name: "Bob" });
    const reply = await dev.sendText({ from: "15557000002", text: "answer", quote: { id: first.id, text: "first" } });
    const b = await delivered(reply.id);
    expect(b.message).toMatchObject({ type: "chat", text: "answer", quoted_id: first.id });
  });

  test.each([
    ["image", { caption: "the receipt", mimetype: "image/jpeg" }, "image", null],
    ["video", { caption: "unboxing", mimetype: "video/mp4" }, "video", null],
    ["audio", { mimetype: "audio/ogg; codecs=opus", ptt: true }, "ptt", null],
    ["document", { fileName: "Rechnung 2026-11.pdf", mimetype: "application/pdf", caption: "invoice" }, "pdf", "Rechnung 2026-11.pdf"],
    ["document", { fileName: "export.csv", mimetype: "text/csv" }, "csv", "export.csv"],
    ["document", { fileName: "contract.docx", mimetype: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }, "doc", "contract.docx"],
    ["document", { fileName: "archive.zip", mimetype: "application/zip" }, "document", "archive.zip"],
    ["sticker", { mimetype: "image/webp" }, "sticker", null],
  ] as const)("%s %o → type %s; the receiver downloads exactly the bytes from file_url", async (kind, extra, type, fileName) => {
    const dev = w.emu.device(OWNER);
    const bytes = Buffer.from(Array.from({ length: 5_000 + kind.length * 97 }, (_, i) => (i * 31 + kind.length) & 0xff));
    const sent = await dev.sendMedia({ from: ALICE, kind, bytes, ...extra });
    const b = await delivered(sent.id);
    expect(b.message.type).toBe(type);
    expect(b.message.file_name).toBe(fileName);
    expect(b.message.mime_type).toBe(extra.mimetype);
    expect(b.message.file_size).toBe(bytes.length);
    expect(b.message.caption).toBe(("caption" in extra ? extra.caption : null) ?? null);
    expect(b.message.file_url).toStartWith(`${w.env.WAHOOK_PUBLIC_URL}/v1/media/`);
    const res = await fetch(b.message.file_url!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(extra.mimetype);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    if (fileName) expect(res.headers.get("content-disposition")).toContain(encodeURIComponent(fileName));
  });

  test("media links need no API key but cannot be altered", async () => {
    const sent = await w.emu.device(OWNER).sendMedia({ from: ALICE, kind: "image", bytes: Buffer.alloc(100, 1), mimetype: "image/png" });
    const url = (await delivered(sent.id)).message.file_url!;
    const tampered = url.replace(/\.(\d{9,12})\./, (_, exp) => `.${Number(exp) + 1}.`);
    expect(tampered).not.toBe(url);
    const res = await fetch(tampered);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("media_link_invalid");
    const withKey = await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(withKey.status).toBe(200);
  });

  test("location, contact card", async () => {
    const dev = w.emu.device(OWNER);
    const loc = await dev.sendLocation({ from: ALICE, lat: 52.52, lng: 13.405, name: "Shop" });
    expect((await delivered(loc.id)).message).toMatchObject({ type: "location", location: { latitude: 52.52, longitude: 13.405, name: "Shop" } });
    const card = await dev.sendContact({ from: ALICE, displayName: "Carol", contactPhone: "15557000003" });
    const b = await delivered(card.id);
    expect(b.message.type).toBe("vcard");
    // Cooby carries text only for chat and media messages; the card is in format "raw".
    expect(b.message.text).toBeNull();
  });

  test("reaction and revoke: as messages of those types, and as their own events", async () => {
    const dev = w.emu.device(OWNER);
    const target = await dev.sendText({ from: ALICE, text: "react to me" });
    await delivered(target.id);
    const reaction = await dev.sendReaction({ from: ALICE, target: target.key, emoji: "👍" });
    expect((await delivered(reaction.id)).message).toMatchObject({ type: "reaction", reaction: { emoji: "👍", target_id: target.id } });
    expect((await delivered(reaction.id, "message.reaction")).message.reaction?.target_id).toBe(target.id);
    const revoke = await dev.sendRevoke({ from: ALICE, target: target.key });
    expect((await delivered(revoke.id)).message).toMatchObject({ type: "revoked", quoted_id: target.id });
    expect((await delivered(revoke.id, "message.revoked")).message.quoted_id).toBe(target.id);
  });

  test("edit → message.updated with the new text", async () => {
    const dev = w.emu.device(OWNER);
    const target = await dev.sendText({ from: ALICE, text: "tpyo" });
    const edit = await dev.sendEdit({ from: ALICE, target: target.key, text: "typo" });
    const b = await delivered(edit.id, "message.updated");
    expect(b.message).toMatchObject({ text: "typo", quoted_id: target.id });
  });
});

describe("groups and sent messages", () => {
  test("group message: group title, every participant with phones, sender by LID shown with phone", async () => {
    const group = w.emu.groups.create({ subject: "Team Berlin", creator: OWNER, participants: [OWNER, ALICE, "15557000004"] });
    // The daemon learns groups at connect time and from notifications; reconnect to be sure it has fetched this one.
    await w.api("POST", `/v1/accounts/${account}/restart`);
    await w.waitState(account, "open");
    const known = w.daemon.store.sqlite.query("SELECT 1 FROM wa_groups WHERE account_id = ? AND jid = ?");
    await waitUntil(() => known.get(account, group.id) !== null, 5_000, "group metadata fetched");
    const sent = await w.emu.device(OWNER).sendText({ from: ALICE, group: group.id, text: "Meeting um 10?", pushName: "Alice A." });
    const b = await delivered(sent.id);
    expect(b).toMatchObject({ chat_id: group.id, chat_type: "group", chat_title: "Team Berlin", sender: { phone: ALICE } });
    expect(b.participants.map((p) => p.phone).sort()).toEqual([OWNER, ALICE, "15557000004"].sort());
    expect(JSON.stringify(b)).not.toContain("@lid");
  });

  test("typed on the phone → message.sent with the user as sender", async () => {
    const sent = await w.emu.device(OWNER).sendText({ fromMe: true, to: ALICE, text: "Ja, ist da." });
    const b = await delivered(sent.id);
    expect(b).toMatchObject({
      event: "message.sent",
      direction: "sent",
      chat_id: `${ALICE}@c.us`,
      sender: { phone: OWNER },
      message: { text: "Ja, ist da." },
    });
    expect(b.sender.wa_name).toBe((await w.account(account)).push_name);
  });
});
