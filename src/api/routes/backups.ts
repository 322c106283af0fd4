// Backups: make one now, list them (local and S3), download, delete. Admin keys only, also
// for reading: an archive holds every account's WhatsApp credentials and webhook secrets.
import { Elysia, t } from "elysia";
import { describeS3Error } from "../../backup/s3.ts";
import type { BackupListing } from "../../backup/service.ts";
import { ApiError } from "../../errors.ts";
import { findKey } from "../../store/apiKeys.ts";
import type { Store } from "../../store/db.ts";
import type { AppDeps } from "../deps.ts";
import { presentedKey } from "../auth.ts";
import { BackupList, BackupNameParams, BackupRequest, BackupStarted } from "../backupSchemas.ts";
import { errorResponses } from "../schemas.ts";

const tags = ["backups"];
const iso = (ms: number) => new Date(ms).toISOString();

function requireAdmin(store: Store, request: Request): void {
  const key = presentedKey(request.headers);
  if (findKey(store, key ?? "")?.scope !== "admin") {
    throw new ApiError("forbidden", "Backups hold every account's WhatsApp credentials and the webhook secrets: only an admin key may make, list, download or delete them.");
  }
}

/** An S3 store that fails answers 502 with a catalogue code (its details go to the log). */
async function fromStore<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError("backup_store_unavailable", `The S3 store answered: ${describeS3Error(error)}. Archives in WAHOOK_BACKUP_DIR are not affected.`);
  }
}

function backupView(b: BackupListing) {
  const m = b.manifest;
  return {
    name: b.name,
    created_at: iso(b.createdAt),
    auto: b.auto,
    size: b.size,
    local: b.local,
    s3_key: b.s3Key,
    manifest: m && {
      wahook_version: m.wahook_version,
      created_at: m.created_at,
      schema_migration: m.schema.migration,
      accounts: m.accounts,
      counts: {
        messages: m.counts.rows.messages?.messages ?? 0,
        media_files: m.counts.media_files,
        media_bytes: m.counts.media_bytes,
        database_bytes: m.counts.database_bytes,
        queue: m.counts.queue,
        rows: m.counts.rows,
      },
      checksum: m.checksum,
    },
  };
}

export function backupRoutes({ store, backups }: AppDeps) {
  return new Elysia({ name: "backups", prefix: "/v1/backups" })
    .post(
      "/",
      ({ request, set }) => {
        requireAdmin(store, request);
        const started = backups.start();
        set.status = 202;
        return { name: started.name, started_at: iso(started.startedAt), state: "running" as const };
      },
      {
        body: BackupRequest,
        response: { 202: BackupStarted, ...errorResponses },
        detail: {
          summary: "Make a backup now (database snapshot + media, one archive; uploaded to S3 when configured)",
          description:
            "Runs while the daemon keeps receiving and delivering. Answers at once; the archive appears in GET /v1/backups when written (the running one is shown under `running`). 409 `backup_running` while another is being made. Restore with `wahook restore <archive|S3 key> --data-dir DIR`.",
          tags,
        },
      },
    )
    .get(
      "/",
      async ({ request }) => {
        requireAdmin(store, request);
        const listed = await backups.list();
        const running = backups.running;
        const failure = backups.lastFailure;
        return {
          data: listed.backups.map(backupView),
          s3_error: listed.s3Error,
          running: running && { name: running.name, started_at: iso(running.startedAt), auto: running.auto },
          last_failure: failure && { name: failure.name, at: iso(failure.at), error: failure.error },
        };
      },
      {
        response: { 200: BackupList, ...errorResponses },
        detail: { summary: "List backups (WAHOOK_BACKUP_DIR and the S3 bucket) with what each holds", tags },
      },
    )
    .get(
      "/:name",
      async ({ request, params }) => {
        requireAdmin(store, request);
        const body = await fromStore(() => backups.open(params.name));
        if (!body) throw new ApiError("not_found", `No backup ${params.name}.`);
        return new Response(body, {
          headers: {
            "content-type": "application/gzip",
            "content-disposition": `attachment; filename="${params.name}"`,
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
          },
        });
      },
      {
        params: BackupNameParams,
        response: { 200: t.Any({ description: "The archive (tar.gz): manifest.json, wahook.db, media/…" }), ...errorResponses },
        detail: { summary: "Download a backup archive (it holds WhatsApp credentials: keep it private)", tags },
      },
    )
    .delete(
      "/:name",
      async ({ request, params, set }) => {
        requireAdmin(store, request);
        if (!(await fromStore(() => backups.remove(params.name)))) throw new ApiError("not_found", `No backup ${params.name}.`);
        set.status = 204;
        return null;
      },
      {
        params: BackupNameParams,
        response: { 204: t.Null(), ...errorResponses },
        detail: { summary: "Delete a backup, locally and in S3", tags },
      },
    );
}
