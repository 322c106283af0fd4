// normalizeMessage is pure: WAMessages built by hand the way Baileys delivers them (a plain
// envelope around a decoded proto.Message, or a whole proto.WebMessageInfo from history),
// a fake directory, and the Message a receiver's payload is built from.
import { describe, expect, test } from "bun:test";
import { proto, type WAMessage, type WAMessageKey } from "baileys";
import { normalizeMessage, type NormalizeContext } from "../../src/wa/normalize.ts";
import { describe as describe_, kindOf, unwrap } from "../../src/wa/content.ts";

const ME = { phone: "886912345678", lid: "200000000000001", name: "Shop Owner" };
const ALICE = { phone: "85291234567", lid: "100000000000001" };
const BOB = { phone: "4917012345001", lid: "100000000000002" };
const CAROL_LID = "100000000000003"; // nobody has told us her phone yet
const GROUP = "120363041306185221@g.us";
const ID = "3EB0C767D26A1D6A1B2C";
const T = 1715150681;

const pn = (phone: string) => `${phone}@s.whatsapp.net`;
const lid = (l: string) => `${l}@lid`;

interface Directory {
  mappings?: Record<string, string>;
  saved?: Record<string, string>;
  push?: Record<string, string>;
  groups?: Record<string, { subject: string | null; participants: { jid: string; phone: string | null }[] }>;
}

/** What normalizeContext (events.ts) reads from our tables, as plain maps. */
function context(dir: Directory = {}): NormalizeContext {
  return {
    accountId: "acc_1",
    me: ME,
    phoneOf(jid) {
      const [user = "", server] = jid.split("@");
      if (server === "s.whatsapp.net") return user;
      if (server !== "lid") return null;
      return user === ME.lid ? ME.phone : (dir.mappings?.[user] ?? null);
    },
    savedName: (phone) => dir.saved?.[phone] ?? null,
    pushName: (phone) => dir.push?.[phone] ?? null,
    group: (jid) => dir.groups?.[jid] ?? null,
  };
}

/** A live message as Baileys upserts it: plain envelope, decoded proto content. */
function live(key: Partial<WAMessageKey>, content: proto.IMessage | null, extra: Partial<WAMessage> = {}): WAMessage {
  return {
    key: { remoteJid: pn(ALICE.phone), fromMe: false, id: ID, ...key },
    message: content ? proto.Message.fromObject(content) : undefined,
    messageTimestamp: T,
    ...extra,
  } as WAMessage;
}

const run = (msg: WAMessage, dir?: Directory, history = false) => normalizeMessage(msg, context(dir), { history });
function normalized(msg: WAMessage, dir?: Directory, history = false) {
  const result = run(msg, dir, history);
  if (result.kind !== "message") throw new Error(`skipped: ${result.reason}`);
  return result;
}

const me = { phone: ME.phone, wa_name: ME.name };

describe("who: chat id, title, sender, participants", () => {
  const cases: [string, WAMessage, Directory, Record<string, unknown>, string[]][] = [
    [
      "1:1 text by phone jid",
      live({}, { conversation: "hello" }, { pushName: "Alice" }),
      {},
      {
        chatId: `${ALICE.phone}@c.us`,
        chatType: "individual",
        chatTitle: ALICE.phone,
        direction: "received",
        sender: { phone: ALICE.phone, wa_name: "Alice" },
        participants: [{ phone: ALICE.phone, wa_name: "Alice" }, me],
      },
      ["message.received"],
    ],
    [
      "from a business's hosted (Cloud API) device: the phone in the jid is the chat",
      live({ remoteJid: `${ALICE.phone}:99@hosted` }, { conversation: "your order shipped" }),
      {},
      { chatId: `${ALICE.phone}@c.us`, chatType: "individual", sender: { phone: ALICE.phone } },
      ["message.received"],
    ],
    [
      // The recipient's phone shows a broadcast list's message in the chat with its sender.
      "received through someone's broadcast list: in the chat with the sender",
      live({ remoteJid: "1715150681@broadcast", participant: pn(ALICE.phone) }, { conversation: "weekly menu" }, { pushName: "Alice" }),
      {},
      {
        chatId: `${ALICE.phone}@c.us`,
        chatType: "individual",
        direction: "received",
        sender: { phone: ALICE.phone, wa_name: "Alice" },
        participants: [{ phone: ALICE.phone, wa_name: "Alice" }, me],
      },
      ["message.received"],
    ],
    [
      "received through a broadcast list, sender by LID with the phone beside it",
      live({ remoteJid: "1715150681@broadcast", participant: `${ALICE.lid}@lid`, participantAlt: pn(ALICE.phone) } as never, { conversation: "weekly menu" }),
      {},
      { chatId: `${ALICE.phone}@c.us`, chatType: "individual", sender: { phone: ALICE.phone } },
      ["message.received"],
    ],
    [
      "1:1 by LID with the phone in remoteJidAlt: phone, never the LID",
      live({ remoteJid: lid(ALICE.lid), remoteJidAlt: pn(ALICE.phone) }, { conversation: "hi" }, { pushName: "Alice" }),
      {},
      { chatId: `${ALICE.phone}@c.us`, sender: { phone: ALICE.phone, wa_name: "Alice" }, participants: [{ phone: ALICE.phone, wa_name: "Alice" }, me] },
      ["message.received"],
    ],
    [
      "1:1 by LID resolved through the stored mappings",
      live({ remoteJid: lid(ALICE.lid) }, { conversation: "hi" }),
      { mappings: { [ALICE.lid]: ALICE.phone }, push: { [ALICE.phone]: "Alice (seen before)" } },
      { chatId: `${ALICE.phone}@c.us`, chatTitle: ALICE.phone, sender: { phone: ALICE.phone, wa_name: "Alice (seen before)" } },
      ["message.received"],
    ],
    [
      "1:1 by a LID nobody has mapped: phone null, the LID said so, chat id by LID",
      live({ remoteJid: lid(CAROL_LID) }, { conversation: "who am I" }, { pushName: "Carol" }),
      {},
      {
        chatId: `${CAROL_LID}@lid`,
        chatTitle: null,
        sender: { phone: null, wa_name: "Carol", lid: CAROL_LID },
        participants: [{ phone: null, wa_name: "Carol", lid: CAROL_LID }, me],
      },
      ["message.received"],
    ],
    [
      "1:1 title is the saved name; the sender's own push name still names the sender",
      live({}, { conversation: "hello" }, { pushName: "Ali" }),
      { saved: { [ALICE.phone]: "Alice Wong (Kowloon shop)" } },
      { chatTitle: "Alice Wong (Kowloon shop)", sender: { phone: ALICE.phone, wa_name: "Ali" } },
      ["message.received"],
    ],
    [
      "without a push name on the message, wa_name falls back to the saved name",
      live({}, { conversation: "hello" }),
      { saved: { [ALICE.phone]: "Alice Wong" }, push: { [ALICE.phone]: "Ali" } },
      { sender: { phone: ALICE.phone, wa_name: "Alice Wong" } },
      ["message.received"],
    ],
    [
      "typed on the phone (fromMe): sent, the user is the sender, the other side a participant",
      live({ remoteJid: lid(ALICE.lid), remoteJidAlt: pn(ALICE.phone), fromMe: true }, { conversation: "on my way" }, { pushName: ME.name }),
      { saved: { [ALICE.phone]: "Alice Wong" } },
      { direction: "sent", chatId: `${ALICE.phone}@c.us`, chatTitle: "Alice Wong", sender: me, participants: [{ phone: ALICE.phone, wa_name: "Alice Wong" }, me] },
      ["message.sent"],
    ],
    [
      "group: subject as title, every cached participant with a phone and a name, sender from participantAlt",
      live({ remoteJid: GROUP, participant: lid(ALICE.lid), participantAlt: pn(ALICE.phone) }, { conversation: "Meeting at 10?" }, { pushName: "Alice A." }),
      {
        saved: { [BOB.phone]: "Bob (supplier)" },
        mappings: { [BOB.lid]: BOB.phone },
        groups: {
          [GROUP]: {
            subject: "Team Berlin",
            participants: [
              { jid: lid(ME.lid), phone: null },
              { jid: lid(ALICE.lid), phone: null },
              { jid: lid(BOB.lid), phone: null },
              { jid: lid(CAROL_LID), phone: null },
            ],
          },
        },
      },
      {
        chatId: GROUP,
        chatType: "group",
        chatTitle: "Team Berlin",
        sender: { phone: ALICE.phone, wa_name: "Alice A." },
        participants: [me, { phone: ALICE.phone, wa_name: "Alice A." }, { phone: BOB.phone, wa_name: "Bob (supplier)" }, { phone: null, wa_name: null, lid: CAROL_LID }],
      },
      ["message.received"],
    ],
    [
      "group not cached yet: no title; participants are the sender and the user, the two known to be in it",
      live({ remoteJid: GROUP, participant: pn(BOB.phone) }, { conversation: "hi all" }, { pushName: "Bob" }),
      {},
      { chatId: GROUP, chatType: "group", chatTitle: null, participants: [{ phone: BOB.phone, wa_name: "Bob" }, me], sender: { phone: BOB.phone, wa_name: "Bob" } },
      ["message.received"],
    ],
    [
      "group message typed on the phone: sent by the user",
      live({ remoteJid: GROUP, participant: lid(ME.lid), fromMe: true }, { conversation: "10 is fine" }),
      { groups: { [GROUP]: { subject: "Team Berlin", participants: [{ jid: pn(ME.phone), phone: ME.phone }] } } },
      { direction: "sent", sender: me, participants: [me] },
      ["message.sent"],
    ],
  ];
  test.each(cases)("%s", (_name, msg, dir, expected, events) => {
    const out = normalized(msg, dir);
    expect(out.message).toMatchObject(expected);
    expect(out.events).toEqual(events as never);
    if ((expected.sender as { lid?: string }).lid === undefined) expect(out.message.sender).not.toHaveProperty("lid");
  });

  test("LID ↔ phone pairs and push names seen in the key come back to be stored", () => {
    const direct = normalized(live({ remoteJid: lid(ALICE.lid), remoteJidAlt: pn(ALICE.phone) }, { conversation: "x" }, { pushName: "Alice" }));
    expect(direct.mappings).toEqual([{ lid: ALICE.lid, phone: ALICE.phone }]);
    expect(direct.pushNames).toEqual([{ phone: ALICE.phone, name: "Alice" }]);
    const group = normalized(live({ remoteJid: GROUP, participant: lid(BOB.lid), participantAlt: pn(BOB.phone) }, { conversation: "x" }, { pushName: "Bob" }));
    expect(group.mappings).toEqual([{ lid: BOB.lid, phone: BOB.phone }]);
    expect(group.pushNames).toEqual([{ phone: BOB.phone, name: "Bob" }]);
    // The push name on the user's own messages is the user's, not the contact's.
    const own = normalized(live({ fromMe: true }, { conversation: "x" }, { pushName: ME.name }));
    expect(own.pushNames).toEqual([]);
    expect(normalized(live({ remoteJid: lid(CAROL_LID) }, { conversation: "x" }, { pushName: "Carol" })).pushNames).toEqual([]);
  });
});

const MEDIA_KEY = Buffer.from("0123456789abcdef0123456789abcdef");
/** A uint64 as decoded protobuf carries it: a Long object, not a number. */
const size = (n: number) => proto.WebMessageInfo.fromObject({ key: {}, messageTimestamp: n }).messageTimestamp!;
const media = (mime: string, bytes: number, fileName: string | null = null) => ({
  key: `${pn(ALICE.phone)}/${ID}`,
  mime_type: mime,
  file_size: bytes,
  file_name: fileName,
});
/** Where WhatsApp says the bytes are: without these a message has nothing to download. */
const bytes = { mediaKey: MEDIA_KEY, directPath: "/v/t62.7118-24/0000_n.enc?ccb=11-4" };
const doc = (fileName: string | null, mimetype: string) => ({ documentMessage: { fileName, mimetype, fileLength: size(2048), ...bytes, caption: "see attached" } });
const vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Carol\nTEL;type=CELL;waid=15557000003:+1 555 700 0003\nEND:VCARD";
const target = { remoteJid: pn(ALICE.phone), fromMe: true, id: "3EB0TARGET" };
const PM = proto.Message.ProtocolMessage.Type;

describe("what: one row per kind of content", () => {
  const nothing = { text: null, caption: null, quotedId: null, location: null, reaction: null, media: null };
  const cases: [string, proto.IMessage, Record<string, unknown>, string[]?][] = [
    ["conversation", { conversation: "hello" }, { ...nothing, type: "chat", text: "hello" }],
    [
      "extendedTextMessage quoting another message",
      { extendedTextMessage: { text: "yes", contextInfo: { stanzaId: "3EB0QUOTED", participant: pn(ALICE.phone) } } },
      { ...nothing, type: "chat", text: "yes", quotedId: "3EB0QUOTED" },
    ],
    [
      "image with caption; size is a protobuf Long",
      { imageMessage: { caption: "the receipt", mimetype: "image/jpeg", fileLength: size(48_213), ...bytes } },
      { ...nothing, type: "image", caption: "the receipt", media: media("image/jpeg", 48_213) },
    ],
    ["video", { videoMessage: { caption: "unboxing", mimetype: "video/mp4", fileLength: size(1_000_000), ...bytes } }, { type: "video", caption: "unboxing", media: media("video/mp4", 1_000_000) }],
    ["gif (a looping video)", { videoMessage: { gifPlayback: true, mimetype: "video/mp4", fileLength: size(300), ...bytes } }, { type: "gif", caption: null, media: media("video/mp4", 300) }],
    ["audio", { audioMessage: { mimetype: "audio/mpeg", fileLength: size(7000), ...bytes } }, { type: "audio", media: media("audio/mpeg", 7000) }],
    ["voice note (ptt)", { audioMessage: { ptt: true, mimetype: "audio/ogg; codecs=opus", fileLength: size(7000), ...bytes } }, { type: "ptt", media: media("audio/ogg; codecs=opus", 7000) }],
    ["sticker", { stickerMessage: { mimetype: "image/webp", fileLength: size(9000), ...bytes } }, { type: "sticker", caption: null, media: media("image/webp", 9000) }],
    ["a 5 GB file: the Long's high word counts", { documentMessage: { fileName: "backup.tar", mimetype: "application/x-tar", fileLength: size(5_000_000_000), ...bytes } }, { type: "document", media: media("application/x-tar", 5_000_000_000, "backup.tar") }],
    ["document .pdf", doc("Rechnung 2026-11.pdf", "application/octet-stream"), { type: "pdf", caption: "see attached", media: media("application/octet-stream", 2048, "Rechnung 2026-11.pdf") }],
    ["document .CSV", doc("EXPORT.CSV", "text/plain"), { type: "csv" }],
    ["document .docx", doc("contract.docx", "application/octet-stream"), { type: "doc" }],
    ["document .doc", doc("old.doc", "application/octet-stream"), { type: "doc" }],
    ["document typed by mime when the name says nothing", doc("scan", "application/pdf"), { type: "pdf", media: media("application/pdf", 2048, "scan") }],
    ["document of another kind", doc("archive.zip", "application/zip"), { type: "document", media: media("application/zip", 2048, "archive.zip") }],
    ["document with caption (wrapper unwrapped)", { documentWithCaptionMessage: { message: doc("plan.pdf", "application/pdf") } }, { type: "pdf", caption: "see attached" }],
    ["location", { locationMessage: { degreesLatitude: 52.52, degreesLongitude: 13.405, name: "Shop" } }, { ...nothing, type: "location", location: { latitude: 52.52, longitude: 13.405, name: "Shop" } }],
    ["live location", { liveLocationMessage: { degreesLatitude: 22.3, degreesLongitude: 114.17 } }, { type: "live_location", location: { latitude: 22.3, longitude: 114.17, name: null } }],
    // normalize keeps the card in `text`; payload.ts decides Cooby shows no text for vcards.
    ["contact card", { contactMessage: { displayName: "Carol", vcard } }, { type: "vcard", text: vcard, media: null }],
    ["several contact cards", { contactsArrayMessage: { displayName: "2 contacts", contacts: [{ displayName: "Carol", vcard }, { displayName: "Dan", vcard }] } }, { type: "multi_vcard" }],
    ["reaction", { reactionMessage: { key: target, text: "👍", senderTimestampMs: size(T * 1000) } }, { type: "reaction", reaction: { emoji: "👍", target_id: target.id } }, ["message.received", "message.reaction"]],
    ["reaction removed", { reactionMessage: { key: target, text: "" } }, { type: "reaction", reaction: { emoji: "", target_id: target.id } }, ["message.received", "message.reaction"]],
    ["deleted for everyone", { protocolMessage: { type: PM.REVOKE, key: target } }, { ...nothing, type: "revoked", quotedId: target.id }, ["message.received", "message.revoked"]],
    [
      "edited: only message.updated, with the new text and the edited message's id",
      { protocolMessage: { type: PM.MESSAGE_EDIT, key: target, editedMessage: { conversation: "typo fixed" } } },
      { type: "chat", text: "typo fixed", quotedId: target.id },
      ["message.updated"],
    ],
    [
      "edited, inside the editedMessage wrapper WhatsApp sends",
      { editedMessage: { message: { protocolMessage: { type: PM.MESSAGE_EDIT, key: target, editedMessage: { extendedTextMessage: { text: "typo fixed" } } } } } },
      { type: "chat", text: "typo fixed", quotedId: target.id },
      ["message.updated"],
    ],
    ["poll", { pollCreationMessageV3: { name: "Lunch?", options: [{ optionName: "Pizza" }, { optionName: "Sushi" }], selectableOptionsCount: 1 } }, { type: "poll_creation", text: "Lunch?" }],
    ["disappearing message (ephemeral wrapper)", { ephemeralMessage: { message: { extendedTextMessage: { text: "gone in 7 days" } } } }, { type: "chat", text: "gone in 7 days" }],
    // A linked device cannot open view-once media: delivered as what it is, with nothing to download.
    ["view once image", { viewOnceMessageV2: { message: { imageMessage: { mimetype: "image/jpeg", fileLength: size(10), ...bytes } } } }, { type: "image", media: null, viewOnce: true }],
    ["round video note (ptv)", { ptvMessage: { mimetype: "video/mp4", fileLength: size(689_530), seconds: 7, ...bytes } }, { type: "ptv", media: media("video/mp4", 689_530) }],
    [
      "a caption-only edit of an image: no media bytes, no download",
      { protocolMessage: { type: PM.MESSAGE_EDIT, key: target, editedMessage: { imageMessage: { caption: "new caption" } } } },
      { type: "image", caption: "new caption", media: null, quotedId: target.id },
      ["message.updated"],
    ],
    ["first group message with its sender key", { senderKeyDistributionMessage: { groupId: GROUP }, conversation: "first" }, { type: "chat", text: "first" }],
    // Kinds below have no real example yet (test/fixtures/README.md): shapes from the rc14 proto.
    ["scheduled call", { scheduledCallCreationMessage: { title: "Weekly sync", callType: 2, scheduledTimestampMs: size(Date.UTC(2026, 11, 7, 9)) } }, { type: "scheduled_call", text: "Weekly sync\nvideo call at 2026-12-07T09:00:00.000Z" }],
    ["a message sent from the phone, as a history chunk can keep it", { deviceSentMessage: { destinationJid: pn(ALICE.phone), message: { conversation: "sent from my phone" } } }, { type: "chat", text: "sent from my phone" }],
    ["a group mention (FutureProof container)", { groupMentionedMessage: { message: { extendedTextMessage: { text: "@Team meeting at 3" } } } }, { type: "chat", text: "@Team meeting at 3" }],
    ["a V4 poll (FutureProof container)", { pollCreationMessageV4: { message: { pollCreationMessageV3: { name: "Venue?", options: [{ optionName: "Park" }] } } } }, { type: "poll_creation", text: "Venue?" }],
    ["a forwarded bot answer", { botForwardedMessage: { message: { conversation: "42" } } }, { type: "chat", text: "42" }],
    ["payment request declined", { declinePaymentRequestMessage: { key: target } }, { type: "payment", text: "payment request declined" }],
    ["payment request cancelled", { cancelPaymentRequestMessage: { key: target } }, { type: "payment", text: "payment request cancelled" }],
    ["invoice", { invoiceMessage: { note: "Invoice #12", attachmentType: 1 } }, { type: "payment", text: "Invoice #12", media: null }],
    ["older template form (highly structured)", { highlyStructuredMessage: { namespace: "ns", elementName: "otp", hydratedHsm: { hydratedTemplate: { hydratedContentText: "Your code is 123456" } } } }, { type: "notification_template", text: "Your code is 123456" }],
    ["channel invite for followers", { newsletterFollowerInviteMessageV2: { newsletterName: "Shop news", caption: "Follow us" } }, { type: "newsletter_invite", text: "Shop news\nFollow us" }],
    ["voice chat", { bcallMessage: { sessionId: "s", mediaType: 1 } }, { type: "call_log", text: "voice chat" }],
    ["Meta AI answer", { richResponseMessage: { submessages: [{ messageType: 2, messageText: "Here are 3 ideas:" }, { messageType: 2, messageText: "1. Pasta" }] } }, { type: "chat", text: "Here are 3 ideas:\n1. Pasta" }],
    ["answer to a status question", { statusQuestionAnswerMessage: { key: target, text: "Blue" } }, { type: "chat", text: "Blue" }],
  ];
  test.each(cases)("%s", (_name, content, expected, events = ["message.received"]) => {
    const out = normalized(live({}, content));
    expect(out.message).toMatchObject(expected);
    expect(out.events).toEqual(events as never);
  });

  // Decoding (protobufjs) drops fields its proto does not define, so only kinds the pinned
  // Baileys defines ever reach content.ts. Each must be opened as a container or read by a rule
  // of its own; the fallback (below) is for nothing else.
  test("every kind the pinned Baileys' proto defines is read by name (a Baileys upgrade fails here first)", () => {
    // `call` and `chat` are fields of the oldest clients that nothing sends any more.
    const notKinds = ["constructor", "toJSON", "call", "chat", "messageContextInfo", "senderKeyDistributionMessage", "fastRatchetKeySenderKeyDistributionMessage"];
    const fields = Object.getOwnPropertyNames(proto.Message.prototype).filter((f) => /^[a-z]/.test(f) && !notKinds.includes(f));
    expect(fields.length).toBeGreaterThan(80);
    const opened = (f: string) => unwrap({ [f]: { message: { conversation: "inside" } } } as never).content?.conversation === "inside";
    const fallback = (f: string) => `kind ${f} carries nothing to show`;
    const unnamed = fields.filter((f) => !opened(f) && (describe_({ [f]: {} } as never, f as never) as { skip?: string }).skip === fallback(f));
    expect(unnamed).toEqual([]);
  });

  test("a kind without a rule of its own: delivered with its words as `unknown`, skipped without any", () => {
    const worded = { futureThingMessage: { title: "Weekly sync" } } as never;
    expect(describe_(worded, kindOf(worded)!)).toMatchObject({ type: "unknown", text: "Weekly sync" });
    const mute = { futureThingMessage: { flag: true } } as never;
    expect(describe_(mute, kindOf(mute)!)).toMatchObject({ skip: "kind futureThingMessage carries nothing to show" });
  });

  test("a message that could not be decrypted arrives as a ciphertext stub", () => {
    const out = normalized(live({}, null, { messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT, messageStubParameters: ["No session"] }));
    expect(out.message).toMatchObject({ type: "ciphertext", text: null, media: null, sender: { phone: ALICE.phone } });
    expect(out.events).toEqual(["message.received"]);
  });
});

describe("skipped: not a chat message", () => {
  const cases: [string, WAMessage][] = [
    ["status update", live({ remoteJid: "status@broadcast", participant: pn(ALICE.phone) }, { conversation: "my story" })],
    ["newsletter (channel) post", live({ remoteJid: "120363144038483540@newsletter" }, { conversation: "news" })],
    ["the user's own message to a broadcast list (the key does not say who got it)", live({ remoteJid: "1715150681@broadcast", participant: pn(ME.phone), fromMe: true }, { conversation: "to all" })],
    ["broadcast list message naming no sender", live({ remoteJid: "1715150681@broadcast" }, { conversation: "to all" })],
    ["history sync notification", live({ remoteJid: pn(ME.phone), fromMe: true }, { protocolMessage: { type: PM.HISTORY_SYNC_NOTIFICATION, historySyncNotification: { chunkOrder: 1 } } })],
    ["app state key share", live({ remoteJid: pn(ME.phone), fromMe: true }, { protocolMessage: { type: PM.APP_STATE_SYNC_KEY_SHARE, appStateSyncKeyShare: { keys: [] } } })],
    ["disappearing timer changed", live({}, { protocolMessage: { type: PM.EPHEMERAL_SETTING, ephemeralExpiration: 604800 } })],
    ["sender key distribution only", live({ remoteJid: GROUP, participant: pn(BOB.phone) }, { senderKeyDistributionMessage: { groupId: GROUP }, messageContextInfo: {} })],
    ["no content at all", live({}, null)],
    ["scheduled call cancelled", live({}, { scheduledCallEditMessage: { key: target, editType: 1 } })],
    ["picture of a poll option", live({}, { pollCreationOptionImageMessage: { message: { imageMessage: { mimetype: "image/jpeg", ...bytes } } } })],
    ["channel poll results (V3)", live({}, { pollResultSnapshotMessageV3: { name: "Lunch?", pollVotes: [] } })],
    ["group notification stub", live({ remoteJid: GROUP, participant: pn(BOB.phone) }, null, { messageStubType: proto.WebMessageInfo.StubType.GROUP_PARTICIPANT_ADD })],
    ["no id", live({ id: null }, { conversation: "x" })],
    [
      "undecryptable traffic between the user's own devices (category peer)",
      live({ remoteJid: pn(ME.phone), fromMe: true }, null, { messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT, messageStubParameters: ["No session"], category: "peer" } as never),
    ],
  ];
  test.each(cases)("%s", (_name, msg) => {
    expect(run(msg).kind).toBe("skip");
  });
});

describe("timestamp, history flag and raw", () => {
  test.each([
    ["a number (live)", T],
    ["a protobuf Long (history)", size(T)],
    ["a string", String(T)],
  ] as const)("timestamp from %s", (_name, ts) => {
    expect(normalized(live({}, { conversation: "x" }, { messageTimestamp: ts as never })).message.timestamp).toBe(T);
  });

  test("history messages say so", () => {
    expect(normalized(live({}, { conversation: "x" }), {}, true).message.history).toBe(true);
    expect(normalized(live({}, { conversation: "x" })).message.history).toBe(false);
  });

  test("raw is plain JSON: bytes as base64, Longs as numbers, live and history alike", () => {
    const content = { imageMessage: { mimetype: "image/jpeg", fileLength: size(48_213), mediaKey: MEDIA_KEY, jpegThumbnail: Buffer.from([1, 2, 3]) } };
    const fromLive = normalized(live({}, content, { pushName: "Alice" })).message.raw;
    const fromHistory = normalized(proto.WebMessageInfo.fromObject({ key: { remoteJid: pn(ALICE.phone), id: ID }, message: content, messageTimestamp: size(T), pushName: "Alice" }) as WAMessage, {}, true).message.raw;
    for (const raw of [fromLive, fromHistory]) {
      expect(JSON.parse(JSON.stringify(raw))).toEqual(raw as never);
      expect(raw).toMatchObject({
        key: { remoteJid: pn(ALICE.phone), id: ID },
        messageTimestamp: T,
        pushName: "Alice",
        message: { imageMessage: { fileLength: 48_213, mediaKey: MEDIA_KEY.toString("base64"), jpegThumbnail: "AQID" } },
      });
    }
  });
});
