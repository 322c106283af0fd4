// Poll votes arrive encrypted with the poll's secret; the receiver gets the option names
// and the poll's id. Votes are encrypted here as a WhatsApp client does (the inverse of
// Baileys' decryptPollVote), under whichever jid forms the sender's app used.
import { describe, expect, test } from "bun:test";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { aesEncryptGCM, proto, type WAMessage } from "baileys";
import { normalizeMessage, jsonSafe, type NormalizeContext } from "../../src/wa/normalize.ts";

const ME = { phone: "886912345678", lid: "200000000000001", name: "Shop Owner" };
const ALICE = { phone: "85291234567", lid: "100000000000001" };
const BOB = { phone: "4917012345001", lid: "100000000000002" };
const GROUP = "120363041306185221@g.us";
const POLL_ID = "3EB0POLL00000000000001";
const OPTIONS = ["Pizza", "Sushi", "Tacos"];
const SECRET = randomBytes(32);

const pn = (phone: string) => `${phone}@s.whatsapp.net`;
const lid = (l: string) => `${l}@lid`;

function encryptVote(selected: string[], creatorJid: string, voterJid: string) {
  const sign = Buffer.concat([Buffer.from(POLL_ID), Buffer.from(creatorJid), Buffer.from(voterJid), Buffer.from("Poll Vote"), new Uint8Array([1])]);
  const key0 = createHmac("sha256", new Uint8Array(32)).update(SECRET).digest();
  const encKey = createHmac("sha256", key0).update(sign).digest();
  const plain = proto.Message.PollVoteMessage.encode({ selectedOptions: selected.map((o) => createHash("sha256").update(o).digest()) }).finish();
  const encIv = randomBytes(12);
  return { encPayload: aesEncryptGCM(plain, encKey, encIv, Buffer.from(`${POLL_ID}\u0000${voterJid}`)), encIv };
}

/** The poll as the messages table keeps it (Message.raw), created by `creator` in a group. */
function storedPoll(creator: { fromMe: boolean; participant?: string; participantAlt?: string }) {
  const msg = {
    key: { remoteJid: GROUP, id: POLL_ID, fromMe: creator.fromMe, participant: creator.participant, participantAlt: creator.participantAlt },
    message: proto.Message.fromObject({
      messageContextInfo: { messageSecret: SECRET },
      pollCreationMessageV3: { name: "Lunch?", options: OPTIONS.map((optionName) => ({ optionName })), selectableOptionsCount: 0 },
    }),
    messageTimestamp: 1715150000,
  };
  return jsonSafe(msg);
}

function context(poll: unknown): NormalizeContext {
  return {
    accountId: "acc_1",
    me: ME,
    phoneOf: (jid) => (jid.endsWith("@s.whatsapp.net") ? jid.split("@")[0]! : jid === lid(ALICE.lid) ? ALICE.phone : jid === lid(BOB.lid) ? BOB.phone : null),
    savedName: () => null,
    pushName: () => null,
    group: () => ({ subject: "Team", participants: [] }),
    storedRaw: (chatId, id) => (chatId === GROUP && id === POLL_ID ? poll : null),
  };
}

function vote(voter: { fromMe: boolean; participant?: string; participantAlt?: string }, enc: { encPayload: Uint8Array; encIv: Uint8Array }): WAMessage {
  return {
    key: { remoteJid: GROUP, id: "3EB0VOTE0000000000001", fromMe: voter.fromMe, participant: voter.participant, participantAlt: voter.participantAlt } as WAMessage["key"],
    message: proto.Message.fromObject({
      pollUpdateMessage: { pollCreationMessageKey: { remoteJid: GROUP, id: POLL_ID, fromMe: false }, vote: enc, senderTimestampMs: 1715150681000 },
      senderKeyDistributionMessage: { groupId: GROUP },
    }),
    messageTimestamp: 1715150681,
  } as WAMessage;
}

describe("poll votes", () => {
  type Author = { fromMe: boolean; participant?: string; participantAlt?: string };
  const alice: Author = { fromMe: false, participant: lid(ALICE.lid), participantAlt: pn(ALICE.phone) };
  const bob: Author = { fromMe: false, participant: pn(BOB.phone) };
  const me: Author = { fromMe: true };
  const cases: [string, Author, { creator: string; voter: string }, string[], ReturnType<typeof storedPoll>][] = [
    ["LID-addressed group, LID jids in the vote", bob, { creator: lid(ALICE.lid), voter: pn(BOB.phone) }, ["Sushi"], storedPoll(alice)],
    ["the creator named by phone", bob, { creator: pn(ALICE.phone), voter: pn(BOB.phone) }, ["Pizza", "Tacos"], storedPoll(alice)],
    ["the voter named by LID", alice, { creator: lid(ALICE.lid), voter: lid(ALICE.lid) }, ["Tacos"], storedPoll(alice)],
    ["my own vote, from my phone, on my poll", me, { creator: pn(ME.phone), voter: pn(ME.phone) }, ["Pizza"], storedPoll({ fromMe: true })],
    ["my vote under my LID", me, { creator: lid(ME.lid), voter: lid(ME.lid) }, ["Sushi"], storedPoll({ fromMe: true })],
    ["a vote taken back (nothing selected)", bob, { creator: lid(ALICE.lid), voter: pn(BOB.phone) }, [], storedPoll(alice)],
  ];
  test.each(cases)("%s", (_name, voter, jids, selected, poll) => {
    const result = normalizeMessage(vote(voter, encryptVote(selected, jids.creator, jids.voter)), context(poll), { history: false });
    if (result.kind !== "message") throw new Error(result.reason);
    expect(result.message).toMatchObject({ type: "poll_update", pollVote: { poll_id: POLL_ID, selected_options: selected }, text: selected.length ? selected.join(", ") : null });
  });

  test("the poll is not stored: the poll's id, no option names", () => {
    const result = normalizeMessage(vote(bob, encryptVote(["Sushi"], lid(ALICE.lid), pn(BOB.phone))), context(null), { history: false });
    if (result.kind !== "message") throw new Error(result.reason);
    expect(result.message).toMatchObject({ type: "poll_update", pollVote: { poll_id: POLL_ID, selected_options: null }, text: null });
  });

  test("a vote that does not decrypt with the stored secret names no options", () => {
    const other = { ...(storedPoll(alice) as object) } as { message: { messageContextInfo: { messageSecret: string } } };
    other.message = { ...other.message, messageContextInfo: { messageSecret: randomBytes(32).toString("base64") } };
    const result = normalizeMessage(vote(bob, encryptVote(["Sushi"], lid(ALICE.lid), pn(BOB.phone))), context(other), { history: false });
    if (result.kind !== "message") throw new Error(result.reason);
    expect(result.message.pollVote).toEqual({ poll_id: POLL_ID, selected_options: null });
  });

  test("the poll itself carries its question, options and how many may be chosen", () => {
    const msg = { ...(storedPoll(alice) as object), message: proto.Message.fromObject((storedPoll(alice) as { message: object }).message) } as unknown as WAMessage;
    const result = normalizeMessage(msg, context(null), { history: false });
    if (result.kind !== "message") throw new Error(result.reason);
    expect(result.message).toMatchObject({ type: "poll_creation", text: "Lunch?", poll: { name: "Lunch?", options: OPTIONS, selectable_count: 3 } });
  });
});
