// Backups in any S3-compatible store (AWS, MinIO, R2, B2, Wasabi…) through Bun's own S3
// client: no SDK to carry, multipart uploads and streamed downloads built in. The keys
// are passed explicitly (Bun would otherwise read S3_*/AWS_* from the environment, and
// only config.ts reads the environment) and never appear in a message or a log line.
import { S3Client } from "bun";
import type { BackupS3 } from "../config.ts";

export type S3Settings = BackupS3;

export interface S3Object {
  name: string;
  key: string;
  size: number;
  lastModified: number;
}

export class S3Target {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      bucket: settings.bucket,
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.region ? { region: settings.region } : {}),
    });
  }

  /** Where the archive `name` lives, for messages: s3://bucket/prefix/name. */
  describe(name: string): string {
    return `s3://${this.settings.bucket}/${this.key(name)}`;
  }

  key(name: string): string {
    return `${this.settings.prefix}${name}`;
  }

  /** An archive name from what a user typed: the bare name, or the key with the prefix. */
  nameOf(keyOrName: string): string {
    const bare = keyOrName.replace(/^s3:\/\/[^/]+\//, "");
    return this.settings.prefix && bare.startsWith(this.settings.prefix) ? bare.slice(this.settings.prefix.length) : bare;
  }

  async upload(file: string, name: string): Promise<string> {
    const key = this.key(name);
    await this.client.write(key, Bun.file(file), { type: "application/gzip" });
    return key;
  }

  /** Every object under the prefix (all pages). */
  async list(): Promise<S3Object[]> {
    const out: S3Object[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.client.list({ prefix: this.settings.prefix, ...(continuationToken ? { continuationToken } : {}) });
      for (const o of page.contents ?? []) {
        out.push({ name: o.key.slice(this.settings.prefix.length), key: o.key, size: o.size ?? 0, lastModified: o.lastModified ? Date.parse(String(o.lastModified)) : 0 });
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    return out;
  }

  async exists(name: string): Promise<boolean> {
    return this.client.file(this.key(name)).exists();
  }

  stream(name: string): ReadableStream<Uint8Array> {
    return this.client.file(this.key(name)).stream();
  }

  async remove(name: string): Promise<void> {
    await this.client.delete(this.key(name));
  }
}

/** What an S3 failure says, without anything of the request (its signature, keys). */
export function describeS3Error(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return [e.code, e.message].filter(Boolean).join(": ") || String(error);
}
