// Real message shapes replayed end to end: the emulator encrypts each fixture's proto like
// any other message, the compiled binary receives, stores and delivers it, and the sink
// shows what a receiver gets. A representative subset of test/fixtures/real-messages.json
// (every fixture goes through normalize and payload in test/wa/realShapes.test.ts).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { aesEncryptGCM, proto } from "baileys";
import { payload, startRig, type Rig } from "../support/e2e.ts";
import { REAL_MESSAGES } from "../support/realMessages.ts";

const PHONE = "15550013001";
const CONTACT = "15557130001";
let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
  await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/kinds"), events: ["message.received", "message.sent", "message.updated"] });
  await rig.pair(PHONE);
}, 60_000);
afterAll(() => rig.close());

const fixture = (name: string) => REAL_MESSAGES.find((f) => f.name === name)!.upsert.message as object;
const send = (body: Record<string, unknown>) => rig.admin("POST", `/devices/${PHONE}/messages`, { from: CONTACT, ...body }) as Promise<{ id: string }>;
const delivered = (id: string) => rig.sink.requests.map(payload).find((b) => b.message?.id === id);

test("replies, business messages, polls, view-once media and edits arrive with what a person sees", async () => {
  const kinds: [string, Record<string, unknown>][] = [
    ["buttonsResponseMessage-2025-lid", { type: "buttons_response", text: "All Menu", selected_id: ".allmenu" }],
    ["listResponseMessage-selectedRowId", { type: "list_response", text: "Convert Menu", selected_id: "!convertmenu" }],
    ["templateButtonReplyMessage-selectedIndex-group", { type: "template_button_reply", text: "Download" }],
    ["interactiveResponseMessage-dm-lid-remoteJidAlt", { type: "interactive_response", text: "All Menu", selected_id: ".allmenu" }],
    ["interactiveMessage-quick_reply-group", { type: "interactive", choices: [{ id: ".verif KOX-230924-091551", text: "Lanjutkan" }, { id: ".cancel KOX-230924-091551", text: "Batalkan" }] }],
    ["buttonsMessage-in-viewOnceMessage", { type: "buttons", text: "Already a User?", choices: [{ id: "signin", text: "Sign In" }] }],
    ["templateMessage-business-2024", { type: "notification_template" }],
    ["listMessage-top-level", { type: "list" }],
    ["callLogMesssage-quoted", { type: "call_log", text: "voice call, missed, 0 s" }],
    ["viewOnceMessageV2-imageMessage-oldgroup", { type: "image", view_once: true, file_url: null }],
    ["protocolMessage-MESSAGE_EDIT-bare-image-caption", { type: "image", file_url: null }],
  ];
  const sent: [string, string, Record<string, unknown>][] = [];
  for (const [name, expected] of kinds) sent.push([name, (await send({ kind: "raw", message: fixture(name) })).id, expected]);
  // Skipped kinds go to the same chat first; the marker after them proves they were not sent.
  const skipped = [];
  for (const name of ["albumMessage-parent", "placeholderMessage", "encCommentMessage", "groupStatusMentionMessage"]) skipped.push((await send({ kind: "raw", message: fixture(name) })).id);
  const marker = await send({ kind: "text", text: "end of kinds" });
  await rig.sink.waitFor(() => !!delivered(marker.id), 20_000);

  for (const [name, id, expected] of sent) {
    const body = delivered(id);
    expect({ name, message: body?.message }).toMatchObject({ name, message: expected });
  }
  expect(skipped.filter((id) => delivered(id))).toEqual([]);
  // The caption-only edit carried no bytes: it went out at once, not after a failed download.
  const edit = delivered(sent.find(([n]) => n.startsWith("protocolMessage-MESSAGE_EDIT"))![1]);
  expect(edit.event).toBe("message.updated");
}, 60_000);

test("a poll and a vote on it: the vote names the poll and the options chosen", async () => {
  const contact = await rig.admin("GET", `/devices/${PHONE}/contacts/${CONTACT}`);
  const pollId = `3EB0E2EPOLL${Date.now()}`;
  const secret = randomBytes(32);
  const options = ["Monday", "Tuesday", "Friday"];
  await send({
    kind: "raw",
    key: { id: pollId },
    message: { messageContextInfo: { messageSecret: secret.toString("base64") }, pollCreationMessageV3: { name: "Which day?", options: options.map((optionName) => ({ optionName })), selectableOptionsCount: 2 } },
  });
  // Encrypted as the contact's app does, naming creator and voter by phone.
  const jid = contact.pnJid as string;
  const sign = Buffer.concat([Buffer.from(pollId), Buffer.from(jid), Buffer.from(jid), Buffer.from("Poll Vote"), new Uint8Array([1])]);
  const key = createHmac("sha256", createHmac("sha256", new Uint8Array(32)).update(secret).digest()).update(sign).digest();
  const plain = proto.Message.PollVoteMessage.encode({ selectedOptions: ["Tuesday", "Friday"].map((o) => createHash("sha256").update(o).digest()) }).finish();
  const encIv = randomBytes(12);
  const encPayload = aesEncryptGCM(plain, key, encIv, Buffer.from(`${pollId}\u0000${jid}`));
  const vote = await send({
    kind: "raw",
    message: { pollUpdateMessage: { pollCreationMessageKey: { remoteJid: contact.lidJid, fromMe: false, id: pollId }, vote: { encPayload: encPayload.toString("base64"), encIv: encIv.toString("base64") }, senderTimestampMs: Date.now() } },
  });
  await rig.sink.waitFor(() => !!delivered(vote.id), 20_000);
  expect(delivered(pollId).message).toMatchObject({ type: "poll_creation", text: "Which day?", poll: { name: "Which day?", options, selectable_count: 2 } });
  expect(delivered(vote.id).message).toMatchObject({ type: "poll_update", text: "Tuesday, Friday", poll_vote: { poll_id: pollId, selected_options: ["Tuesday", "Friday"] } });
}, 60_000);

test("a delivery sent again (a retry) carries the same bytes, media link included", async () => {
  // The receiver fails the first attempt; the retry follows 5 s later.
  rig.sink.respondWith([{ status: 500 }]);
  const jpeg = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex").toString("base64");
  const sent = await send({ kind: "image", dataBase64: jpeg, caption: "the same twice" });
  const both = await rig.sink.waitFor((rs) => rs.filter((r) => payload(r).message?.id === sent.id).length >= 2, 20_000);
  const [first, second] = both.filter((r) => payload(r).message?.id === sent.id);
  expect(payload(first!).message.file_url).toStartWith(`${rig.daemon.url.replace("127.0.0.1", "localhost")}/v1/media/`);
  expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]!);
  expect(second!.body).toBe(first!.body);
}, 30_000);

test("a message received through a contact's broadcast list arrives in the chat with that contact", async () => {
  const direct = await send({ kind: "text", text: "before the list" });
  const listed = await send({ kind: "text", text: "weekly menu", broadcast: "1715150681@broadcast", pushName: "Menu Shop" });
  await rig.sink.waitFor(() => !!delivered(listed.id), 20_000);
  const before = delivered(direct.id);
  const body = delivered(listed.id);
  expect(body).toMatchObject({ chat_id: `${CONTACT}@c.us`, chat_type: "individual", direction: "received", sender: { phone: CONTACT }, message: { type: "chat", text: "weekly menu" } });
  // Same chat, so the same per-chat sequence: one after the direct message.
  expect(body.seq).toBe(before.seq + 1);
}, 30_000);
