// Migrations are imported as text so `bun build --compile` embeds them: the binary
// migrates its database when copied alone into an empty directory. When drizzle-kit adds
// a file to drizzle/, add its import here; test/store/migrations.test.ts fails until then.
import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import m0000 from "../../drizzle/0000_foundation.sql" with { type: "text" };
import m0001 from "../../drizzle/0001_delivery.sql" with { type: "text" };
import m0002 from "../../drizzle/0002_accounts.sql" with { type: "text" };
import m0003 from "../../drizzle/0003_backfills.sql" with { type: "text" };
import m0004 from "../../drizzle/0004_no_loss.sql" with { type: "text" };

const SQL_BY_TAG: Record<string, string> = {
  "0000_foundation": m0000,
  "0001_delivery": m0001,
  "0002_accounts": m0002,
  "0003_backfills": m0003,
  "0004_no_loss": m0004,
};

export interface Migration {
  tag: string;
  statements: string[];
  hash: string;
}

export function embeddedMigrations(): Migration[] {
  return journal.entries.map((entry) => {
    const text = SQL_BY_TAG[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is in the journal but not embedded in src/store/migrations.ts`);
    return {
      tag: entry.tag,
      statements: text.split("--> statement-breakpoint").map((s) => s.trim()).filter(Boolean),
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
    };
  });
}

export const embeddedTags = (): string[] => Object.keys(SQL_BY_TAG);
