import { describe, expect, test } from "bun:test";
import { MESSAGE_TYPES, type Message, type MessageType } from "../../src/domain.ts";
import { buildPayload, buildTestMessage, deliveryBody, type BodyInput, type PayloadInput } from "../../src/delivery/payload.ts";

const ACCOUNT = { id: "acc_1", phone: "886912345678", email: "owner@example.com" };
const ME = { phone: "886912345678", wa_name: "Owner" };
const ALICE = { phone: "85291234567", wa_name: "Alice" };

function message(overrides: Partial<Message> = {}): Message {
  return {
    accountId: "acc_1",
    id: "3EB0C767D26A1D6A1B2C",
    chatId: "85291234567@c.us",
    chatType: "individual",
    chatTitle: "Alice Wong",
    direction: "received",
    sender: ALICE,
    participants: [ALICE, ME],
    type: "chat",
    text: "hello",
    caption: null,
    quotedId: null,
    location: null,
    reaction: null,
    media: null,
    timestamp: 1715150681,
    history: false,
    raw: { key: { id: "3EB0C767D26A1D6A1B2C" }, message: { conversation: "hello" } },
    ...overrides,
  };
}

function input(overrides: Partial<PayloadInput> = {}): PayloadInput {
  return { event: "message.received", message: message(), seq: 1, format: "cooby", account: ACCOUNT, fileUrl: null, ...overrides };
}

describe("buildPayload: the whole body", () => {
  test("a received 1:1 text, byte for byte (Cooby fields first, then wahook's)", () => {
    expect(JSON.stringify(buildPayload(input()))).toBe(
      '{"chat_id":"85291234567@c.us","chat_type":"individual","chat_title":"Alice Wong",' +
        '"sender":{"phone":"85291234567","wa_name":"Alice"},' +
        '"participants":[{"phone":"85291234567","wa_name":"Alice"},{"phone":"886912345678","wa_name":"Owner"}],' +
        '"user_phone":"886912345678","user_email":"owner@example.com","direction":"received",' +
        '"message":{"id":"3EB0C767D26A1D6A1B2C","type":"chat","text":"hello","file_name":null,"file_url":null,' +
        '"caption":null,"quoted_id":null,"mime_type":null,"file_size":null,"location":null,"reaction":null},' +
        '"timestamp":"1715150681","event":"message.received","account_id":"acc_1","history":false,"seq":1}',
    );
  });

  const GROUP = "120363041306185221@g.us";
  const cases: [string, PayloadInput, Record<string, unknown>][] = [
    [
      "a sent group document with a link, from history",
      input({
        event: "message.sent",
        seq: 42,
        fileUrl: "https://wahook.example/v1/media/abc?sig=1",
        message: message({
          chatId: GROUP,
          chatType: "group",
          chatTitle: "Sales team",
          direction: "sent",
          sender: ME,
          participants: [ME, ALICE],
          type: "pdf",
          text: null,
          caption: "Q3 offer",
          quotedId: "ABCDEF0123",
          media: { key: "m1", mime_type: "application/pdf", file_size: 123456, file_name: "offer.pdf" },
          history: true,
        }),
      }),
      {
        chat_id: GROUP,
        chat_type: "group",
        chat_title: "Sales team",
        sender: ME,
        participants: [ME, ALICE],
        direction: "sent",
        message: {
          id: "3EB0C767D26A1D6A1B2C",
          type: "pdf",
          text: "Q3 offer",
          file_name: "offer.pdf",
          file_url: "https://wahook.example/v1/media/abc?sig=1",
          caption: "Q3 offer",
          quoted_id: "ABCDEF0123",
          mime_type: "application/pdf",
          file_size: 123456,
          location: null,
          reaction: null,
        },
        event: "message.sent",
        history: true,
        seq: 42,
      },
    ],
    [
      "a sender known only by LID: phone null, lid given",
      input({
        message: message({
          chatId: GROUP,
          chatType: "group",
          chatTitle: null,
          sender: { phone: null, wa_name: "Bob", lid: "123456789012345@lid" },
          participants: [{ phone: null, wa_name: null, lid: "123456789012345@lid" }, { ...ME, lid: null }],
        }),
      }),
      {
        chat_title: null,
        sender: { phone: null, wa_name: "Bob", lid: "123456789012345@lid" },
        participants: [{ phone: null, wa_name: null, lid: "123456789012345@lid" }, ME],
      },
    ],
    [
      "a lid next to a known phone is left out",
      input({ message: message({ sender: { ...ALICE, lid: "999@lid" }, participants: [] }) }),
      { sender: ALICE, participants: [] },
    ],
    [
      "a 1:1 chat without a saved name is titled by the phone",
      input({ message: message({ chatTitle: null }) }),
      { chat_title: "85291234567" },
    ],
    [
      "a location",
      input({ message: message({ type: "location", text: null, location: { latitude: 25.033, longitude: 121.5654, name: "Taipei 101" } }) }),
      { message: expect.objectContaining({ type: "location", text: null, location: { latitude: 25.033, longitude: 121.5654, name: "Taipei 101" }, reaction: null }) },
    ],
    [
      "a reaction",
      input({ event: "message.reaction", message: message({ type: "reaction", text: null, reaction: { emoji: "👍", target_id: "3EB0AAAA" } }) }),
      { event: "message.reaction", message: expect.objectContaining({ type: "reaction", text: null, location: null, reaction: { emoji: "👍", target_id: "3EB0AAAA" } }) },
    ],
    [
      "format raw adds the original message",
      input({ format: "raw" }),
      { raw: { key: { id: "3EB0C767D26A1D6A1B2C" }, message: { conversation: "hello" } } },
    ],
    [
      "format raw with no original gives null",
      input({ format: "raw", message: message({ raw: undefined }) }),
      { raw: null },
    ],
    [
      "an account without phone or e-mail",
      input({ account: { id: "acc_2", phone: null, email: null } }),
      { user_phone: null, user_email: null, account_id: "acc_2" },
    ],
    [
      "a fractional timestamp is cut to whole seconds",
      input({ message: message({ timestamp: 1715150681.999 }) }),
      { timestamp: "1715150681" },
    ],
  ];
  // Each case lists the top-level fields it is about; those must be exactly equal.
  test.each(cases)("%s", (_name, given, expected) => {
    const payload: Record<string, unknown> = { ...buildPayload(given) };
    const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, payload[key]]));
    expect(picked).toEqual(expected);
  });

  test("cooby format has no raw key; raw format puts it after the additive fields", () => {
    expect(Object.keys(buildPayload(input()))).toEqual([
      "chat_id", "chat_type", "chat_title", "sender", "participants", "user_phone", "user_email",
      "direction", "message", "timestamp", "event", "account_id", "history", "seq",
    ]);
    expect(Object.keys(buildPayload(input({ format: "raw", webhookTestNote: "n" }))).slice(-3)).toEqual(["seq", "raw", "note"]);
  });

  test("sender keys stay phone, wa_name, lid", () => {
    const p = buildPayload(input({ message: message({ sender: { lid: "1@lid", wa_name: null, phone: null } }) }));
    expect(Object.keys(p.sender)).toEqual(["phone", "wa_name", "lid"]);
  });
});

describe("buildPayload: text, caption and file name by message type", () => {
  // [type, text, caption, file_name] for a message that carries all three. Cooby's own
  // rule where it has one (text for chat, media and documents; none where the kind has a
  // field of its own or no words); the words a person sees for the kinds it is silent on.
  const rows: [MessageType, string | null, string | null, string | null][] = [
    ["chat", "T", null, null],
    ["image", "T", "C", null],
    ["video", "T", "C", null],
    ["audio", null, null, null],
    ["ptt", null, null, null],
    ["sticker", null, null, null],
    ["document", "T", "C", "f.bin"],
    ["pdf", "T", "C", "f.bin"],
    ["csv", "T", "C", "f.bin"],
    ["doc", "T", "C", "f.bin"],
    ["location", null, null, null],
    ["live_location", "T", "C", null],
    ["vcard", null, null, null],
    ["multi_vcard", "T", null, null],
    ["revoked", null, null, null],
    ["reaction", null, null, null],
    ["poll_creation", "T", null, null],
    ["poll_update", "T", null, null],
    ["call_log", "T", null, null],
    ["ciphertext", null, null, null],
    ["buttons_response", "T", null, null],
    ["list_response", "T", null, null],
    ["template_button_reply", "T", null, null],
    ["interactive", "T", null, null],
    ["interactive_response", "T", null, null],
    ["buttons", "T", null, null],
    ["list", "T", null, null],
    ["order", "T", null, null],
    ["product", "T", null, null],
    ["payment", "T", null, null],
    ["event_creation", "T", null, null],
    ["gif", "T", "C", null],
    ["ptv", "T", "C", null],
    ["sticker_pack", "T", null, null],
    ["groups_v4_invite", "T", null, null],
    ["newsletter_admin_invite", "T", null, null],
    ["newsletter_invite", "T", null, null],
    ["scheduled_call", "T", null, null],
    ["protocol", "T", null, null],
    ["e2e_notification", "T", null, null],
    ["notification_template", "T", null, null],
    ["group_notification", "T", null, null],
    ["broadcast_notification", "T", null, null],
    ["unknown", "T", null, null],
  ];

  test("the table covers every message type", () => {
    expect(rows.map(([type]) => type).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  const media = { key: "k", mime_type: "application/octet-stream", file_size: 10, file_name: "f.bin" };
  test.each(rows)("%s", (type, text, caption, fileName) => {
    const { message: m } = buildPayload(input({ message: message({ type, text: "T", caption: "C", media }) }));
    expect([m.text, m.caption, m.file_name]).toEqual([text, caption, fileName]);
  });

  // Media normalized with its words only in the caption still shows them as text.
  const captionOnly: [MessageType, string | null][] = [
    ["image", "C"],
    ["video", "C"],
    ["document", "C"],
    ["pdf", "C"],
    ["gif", "C"],
    ["ptv", "C"],
    ["audio", null],
  ];
  test.each(captionOnly)("%s with only a caption: text %p", (type, text) => {
    const { message: m } = buildPayload(input({ message: message({ type, text: null, caption: "C", media }) }));
    expect(m.text).toBe(text);
  });

  test("mime type and size come from the media of any type", () => {
    const { message: m } = buildPayload(input({ message: message({ type: "ptt", text: null, media: { key: "k", mime_type: "audio/ogg; codecs=opus", file_size: 5120, file_name: null } }) }));
    expect([m.mime_type, m.file_size, m.file_name]).toEqual(["audio/ogg; codecs=opus", 5120, null]);
  });
});

describe("buildTestMessage", () => {
  const NOW = 1_764_000_000_123;
  test.each([
    ["acc_1", "acc_1"],
    [null, ""],
  ] as const)("account %p", (accountId, stored) => {
    const m = buildTestMessage(accountId, NOW);
    expect(m).toEqual({
      accountId: stored,
      id: "WAHOOK-TEST-1764000000123",
      chatId: "15550100000@c.us",
      chatType: "individual",
      chatTitle: "wahook test",
      direction: "received",
      sender: { phone: "15550100000", wa_name: "wahook test" },
      participants: [{ phone: "15550100000", wa_name: "wahook test" }],
      type: "chat",
      text: "Test event from wahook. If you can read this, deliveries to this endpoint work.",
      caption: null,
      quotedId: null,
      location: null,
      reaction: null,
      media: null,
      timestamp: 1_764_000_000,
      history: false,
      raw: null,
    });
  });

  test("as a webhook.test payload", () => {
    const payload = buildPayload({
      event: "webhook.test",
      message: buildTestMessage(null, NOW),
      seq: 0,
      format: "cooby",
      account: { id: null, phone: null, email: null },
      fileUrl: null,
      webhookTestNote: "Sent by POST /v1/webhooks/wh_1/test",
    });
    expect(payload).toMatchObject({
      event: "webhook.test",
      account_id: null,
      timestamp: "1764000000",
      message: { type: "chat", text: "Test event from wahook. If you can read this, deliveries to this endpoint work." },
      note: "Sent by POST /v1/webhooks/wh_1/test",
    });
  });
});

describe("deliveryBody: a queued row's bytes", () => {
  const LINK = "https://wahook.example/v1/media/abc?sig=1";
  const PHOTO = message({ type: "image", text: null, caption: "look", media: { key: "m1", mime_type: "image/jpeg", file_size: 2048, file_name: null } });
  function body(overrides: Partial<BodyInput>) {
    const asked = { contact: [] as string[], fileUrl: [] as string[] };
    const input: BodyInput = {
      event: "message.received",
      seq: 7,
      data: null,
      stored: message(),
      backfill: false,
      format: "cooby",
      contact: (accountId) => (asked.contact.push(accountId), { phone: ACCOUNT.phone, email: ACCOUNT.email }),
      fileUrl: (m) => (asked.fileUrl.push(m.id), LINK),
      ...overrides,
    };
    return { json: JSON.parse(deliveryBody(input)) as Record<string, unknown>, asked };
  }

  const cases: [name: string, input: Partial<BodyInput>, fields: Record<string, unknown>, asked: { contact: string[]; fileUrl: string[] }][] = [
    [
      "a live message: the account's contact, the row's seq",
      {},
      { event: "message.received", seq: 7, history: false, account_id: "acc_1", user_phone: ACCOUNT.phone, user_email: ACCOUNT.email, message: { id: message().id, file_url: null } },
      { contact: ["acc_1"], fileUrl: [] },
    ],
    ["queued by a backfill: history, though it arrived live", { backfill: true }, { history: true, seq: 7 }, { contact: ["acc_1"], fileUrl: [] }],
    ["a message with media: its link", { stored: PHOTO }, { message: { type: "image", file_url: LINK, caption: "look" } }, { contact: ["acc_1"], fileUrl: [PHOTO.id] }],
    ["format raw: the original message too", { format: "raw" }, { raw: message().raw }, { contact: ["acc_1"], fileUrl: [] }],
    [
      "webhook.test without an account: the sample message from the row, no account",
      { event: "webhook.test", seq: 0, stored: null, data: JSON.stringify(buildTestMessage(null, 1_764_000_000_000)) },
      { event: "webhook.test", seq: 0, account_id: null, user_phone: null, message: { id: "WAHOOK-TEST-1764000000000" } },
      { contact: [], fileUrl: [] },
    ],
    [
      "an event about no message: its body parts from the row, then seq",
      { event: "backfill.finished", stored: null, data: JSON.stringify({ backfill_id: "bf_1", state: "finished" }) },
      { event: "backfill.finished", backfill_id: "bf_1", state: "finished", seq: 7 },
      { contact: [], fileUrl: [] },
    ],
    ["an event about a message that is gone, without body parts: event and seq", { event: "message.updated", stored: null }, { event: "message.updated", seq: 7 }, { contact: [], fileUrl: [] }],
  ];
  test.each(cases)("%s", (_name, input, fields, asked) => {
    const got = body(input);
    expect(got.json).toMatchObject(fields);
    expect(got.asked).toEqual(asked);
  });

  test("an event about no message is exactly its parts", () => {
    expect(body({ event: "backfill.finished", stored: null, data: JSON.stringify({ backfill_id: "bf_1" }) }).json).toEqual({ event: "backfill.finished", backfill_id: "bf_1", seq: 7 });
    expect(body({ event: "message.updated", stored: null }).json).toEqual({ event: "message.updated", seq: 7 });
  });

  test("a backfill's history flag does not touch the stored message (other rows share it)", () => {
    const stored = message();
    expect(body({ stored, backfill: true }).json.history).toBe(true);
    expect(stored.history).toBe(false);
  });

  test("a message's body is buildPayload's, byte for byte", () => {
    const input = { event: "message.received", seq: 7, data: null, stored: message(), backfill: false, format: "cooby", contact: () => ACCOUNT, fileUrl: () => null } as const;
    expect(deliveryBody(input)).toBe(JSON.stringify(buildPayload({ event: "message.received", message: message(), seq: 7, format: "cooby", account: ACCOUNT, fileUrl: null })));
  });
});
