// Poll votes are end-to-end encrypted a second time, with the poll's own secret
// (`messageContextInfo.messageSecret` of the poll creation message), the poll's id and the
// jids of its creator and of the voter. The poll is in our messages table; which jid form
// (phone or LID) the sender's app used is not known, so each candidate pair is tried: AES-GCM
// says which one is right.
import { createHash } from "node:crypto";
import { decryptPollVote, jidNormalizedUser, proto } from "baileys";
import type { EncryptedVote } from "./content.ts";
import { unwrap } from "./content.ts";
import { isGroupJid } from "./jids.ts";

export interface StoredPoll {
  secret: Uint8Array;
  options: string[];
  /** The jids the poll's creator may have been named by (phone and LID forms). */
  creators: string[];
}

type RawJson = { key?: { fromMe?: boolean; remoteJid?: string; participant?: string; remoteJidAlt?: string; participantAlt?: string }; message?: Record<string, unknown> };

/** The poll as stored (the JSON form of its WAMessage), or null if it is no poll or has no secret. */
export function storedPoll(raw: unknown, meJids: string[]): StoredPoll | null {
  const stored = raw as RawJson | null;
  if (!stored?.message) return null;
  const message = proto.Message.fromObject(stored.message);
  const secret = message.messageContextInfo?.messageSecret;
  const { content } = unwrap(message);
  const poll = content?.pollCreationMessage ?? content?.pollCreationMessageV2 ?? content?.pollCreationMessageV3 ?? content?.pollCreationMessageV5;
  if (!secret?.length || !poll) return null;
  const key = stored.key ?? {};
  const creators = key.fromMe ? meJids : [key.participant, key.participantAlt, key.remoteJid, key.remoteJidAlt].filter((j): j is string => !!j && !isGroupJid(j));
  return { secret, options: (poll.options ?? []).map((o) => o.optionName ?? ""), creators };
}

/** The names of the options a vote chose, or null when no candidate pair decrypts it. */
export function readVote(vote: EncryptedVote, poll: StoredPoll, voters: string[]): string[] | null {
  const byHash = new Map(poll.options.map((name) => [createHash("sha256").update(name).digest("hex"), name]));
  for (const creator of new Set(poll.creators.map(jidNormalizedUser))) {
    for (const voter of new Set(voters.map(jidNormalizedUser))) {
      try {
        const decrypted = decryptPollVote(vote, { pollCreatorJid: creator, pollMsgId: vote.pollId, pollEncKey: poll.secret, voterJid: voter });
        return (decrypted.selectedOptions ?? []).map((h) => byHash.get(Buffer.from(h).toString("hex")) ?? "(unknown option)");
      } catch {
        // Wrong jid pair: the GCM tag does not match. Try the next.
      }
    }
  }
  return null;
}
