// A local S3-compatible store for tests: s3rver (an independent implementation of the S3
// REST API: SigV4 requests, multipart uploads, ListObjectsV2) on 127.0.0.1 only, its
// objects in a temp folder, one bucket.
import { rmSync } from "node:fs";
import S3rver from "s3rver";
import { tempDir } from "./app.ts";

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** The WAHOOK_BACKUP_S3_* settings pointing at it (prefix "wahook/"). */
  env: Record<string, string>;
  /** A client for the test's own look into the bucket. */
  client: Bun.S3Client;
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export const S3_SECRET = "local-test-secret-never-logged";

export async function startLocalS3(bucket = "wahook-test"): Promise<LocalS3> {
  const dir = tempDir("wahook-s3-");
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new Bun.S3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1" });
  return {
    endpoint,
    bucket,
    env: {
      WAHOOK_BACKUP_S3_BUCKET: bucket,
      WAHOOK_BACKUP_S3_ENDPOINT: endpoint,
      WAHOOK_BACKUP_S3_REGION: "us-east-1",
      WAHOOK_BACKUP_S3_PREFIX: "wahook",
      WAHOOK_BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
      WAHOOK_BACKUP_S3_SECRET_ACCESS_KEY: S3_SECRET,
    },
    client,
    async keys() {
      return ((await client.list({ prefix: "" })).contents ?? []).map((o) => o.key).sort();
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
