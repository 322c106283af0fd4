import { describe, expect, test } from "bun:test";
import { isGroupJid, isLid, isPn, mappingOf, personChatId, userOf } from "../../src/wa/jids.ts";

describe("jids: which form a WhatsApp id is, and whose", () => {
  const cases: [string, { pn: boolean; lid: boolean; group: boolean; user: string | null }][] = [
    ["491701234567@s.whatsapp.net", { pn: true, lid: false, group: false, user: "491701234567" }],
    ["491701234567:12@s.whatsapp.net", { pn: true, lid: false, group: false, user: "491701234567" }],
    ["100000000000001@lid", { pn: false, lid: true, group: false, user: "100000000000001" }],
    ["100000000000001:3@lid", { pn: false, lid: true, group: false, user: "100000000000001" }],
    // A business's Cloud API device (device 99) on a number that also runs the app.
    ["491701234567:99@hosted", { pn: true, lid: false, group: false, user: "491701234567" }],
    ["100000000000001:99@hosted.lid", { pn: false, lid: true, group: false, user: "100000000000001" }],
    ["120363025246125888@g.us", { pn: false, lid: false, group: true, user: "120363025246125888" }],
    ["1715150681@broadcast", { pn: false, lid: false, group: false, user: "1715150681" }],
    ["status@broadcast", { pn: false, lid: false, group: false, user: "status" }],
    ["120363144038483540@newsletter", { pn: false, lid: false, group: false, user: "120363144038483540" }],
    ["no-server", { pn: false, lid: false, group: false, user: null }],
  ];
  test.each(cases)("%s", (jid, want) => {
    expect({ pn: isPn(jid), lid: isLid(jid), group: isGroupJid(jid), user: userOf(jid) }).toEqual(want);
  });

  test("nothing is nothing", () => {
    expect([isPn(null), isLid(undefined), isGroupJid(""), userOf(null)]).toEqual([false, false, false, null]);
  });

  test("a LID and a phone of one person pair up in either order, hosted forms included", () => {
    expect(mappingOf("100000000000001@lid", "491701234567@s.whatsapp.net")).toEqual({ lid: "100000000000001", phone: "491701234567" });
    expect(mappingOf("491701234567@s.whatsapp.net", "100000000000001@lid")).toEqual({ lid: "100000000000001", phone: "491701234567" });
    expect(mappingOf("100000000000001:99@hosted.lid", "491701234567:99@hosted")).toEqual({ lid: "100000000000001", phone: "491701234567" });
    expect(mappingOf("491701234567@s.whatsapp.net", null)).toBeNull();
    expect(mappingOf("100000000000001@lid", "100000000000002@lid")).toBeNull();
  });

  test("a person's chat id is the phone in Cooby's form, or the LID while the phone is unknown", () => {
    expect(personChatId("491701234567", "100000000000001@lid")).toBe("491701234567@c.us");
    expect(personChatId(null, "100000000000001:3@lid")).toBe("100000000000001@lid");
  });
});
