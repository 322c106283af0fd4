// WhatsApp's ids for people and chats: a person is `<phone>@s.whatsapp.net` or, when the
// phone is hidden from us, `<lid>@lid` (a privacy id); a group is `<id>@g.us`. Receivers
// see Cooby's forms instead (README "Payload"): `<phone>@c.us`, never a LID when the phone
// is known.
import { jidDecode } from "baileys";

type MaybeJid = string | null | undefined;

/** The user part (phone digits or LID), without server or device; null when there is none. */
export const userOf = (jid: MaybeJid): string | null => (jid ? (jidDecode(jid)?.user ?? null) : null);

// `@hosted` and `@hosted.lid` are the same two forms for a device WhatsApp hosts for a
// business (the Cloud API side of a number that also runs the app): same user part.
export const isLid = (jid: MaybeJid): jid is string => !!jid && (jid.endsWith("@lid") || jid.endsWith("@hosted.lid"));

export const isPn = (jid: MaybeJid): jid is string => !!jid && (jid.endsWith("@s.whatsapp.net") || jid.endsWith("@hosted"));

export const isGroupJid = (jid: MaybeJid): jid is string => !!jid && jid.endsWith("@g.us");

/** A LID and the phone of the same person. */
export interface LidMapping {
  lid: string;
  phone: string;
}

/** A LID jid and a phone jid of the same person, in either order. */
export function mappingOf(a: MaybeJid, b: MaybeJid): LidMapping | null {
  const lid = userOf(isLid(a) ? a : isLid(b) ? b : null);
  const phone = userOf(isPn(a) ? a : isPn(b) ? b : null);
  return lid && phone ? { lid, phone } : null;
}

/** Cooby's id of a one-to-one chat: `<phone>@c.us`, or `<lid>@lid` while the phone is unknown. */
export const personChatId = (phone: string | null, jid: string): string => (phone ? `${phone}@c.us` : `${userOf(jid)}@lid`);
