/**
 * The regional buckets: one s3rver process holding a bucket per bucket-map base, written with
 * @aws-sdk/client-s3 the way production's mirror tool writes (key `containers/images/<digest>`,
 * docs/reference/archeio.md#url-construction), and read anonymously by clients, as the public production buckets are.
 *
 * s3rver runs as a child process, not in the stack's process: it then uses the second core while the harness
 * hashes, and its logger can never write to the CLI's stdout. `--no-vhost-buckets` because the faults front and
 * clients address buckets path-style, and s3rver would otherwise take a hostname in Host for a bucket name.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { ManagedProcess } from './managed-process.js';
import { StackError } from './stack-error.js';
import type { Started } from './stack-service.js';
import { Wait, systemClock, type Clock } from './wait.js';

/** The only key s3rver knows; it checks the key id, not the secret. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** the s3rver release the stack runs (package.json pins it); part of the seed snapshot key */
export const S3RVER_VERSION: string = (createRequire(import.meta.url)('s3rver/package.json') as { version: string })
  .version;

const SMALL_BODY_BYTES = 4 * 1024 * 1024;

/** The SDK, loaded on first use: it takes a quarter of a second to load, and only the local stack's buckets need it. */
const sdk = () => import('@aws-sdk/client-s3');

export function blobKey(digest: string): string {
  return `containers/images/${digest}`;
}

/** An SDK client for s3rver: path-style, its fixed credentials, and no default checksums. */
export async function s3rverClient(endpoint: string): Promise<S3Client> {
  // Under Node < 22 the SDK prints a nine-line notice that its releases from January 2027 will need Node 22, in the
  // middle of a run's or a stack's progress. The pinned lockfile is the answer to it: nothing for a
  // user to act on until an SDK upgrade, which has to settle the Node version anyway. A value the user set stands.
  // (Set before the SDK loads, in case a release checks at load.)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await sdk();
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    // s3rver does not understand aws-chunked uploads with trailing checksums, which newer SDKs send by default
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key in a bucket (ListObjectsV2, following continuation tokens). */
export async function listBucketKeys(client: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  const { ListObjectsV2Command } = await sdk();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export interface S3BucketServerOptions {
  /** s3rver's data directory (inside the stack's temp dir) */
  dir: string;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
  /** extra environment for the process (the stack's owner tag) */
  env?: Record<string, string>;
}

export class S3BucketServer {
  private constructor(
    readonly process: ManagedProcess,
    readonly endpoint: string,
    readonly client: S3Client,
  ) {}

  static async start(opts: S3BucketServerOptions): Promise<S3BucketServer> {
    const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
    const proc = await ManagedProcess.start({
      name: 's3rver',
      command: process.execPath,
      args: [bin, '--directory', opts.dir, '--address', '127.0.0.1', '--port', '0', '--silent', '--no-vhost-buckets'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
      echo: opts.echo,
    });
    try {
      const m = await Wait.forLogLine(
        /S3rver listening on 127\.0\.0\.1:(\d+)/,
        opts.timeoutMs ?? 20_000,
      ).waitUntilReady({
        clock: opts.clock ?? systemClock,
        component: 's3rver',
        output: proc,
      });
      const endpoint = `http://127.0.0.1:${m[1]}`;
      return new S3BucketServer(proc, endpoint, await s3rverClient(endpoint));
    } catch (err) {
      await proc.stop(1_000);
      throw err;
    }
  }

  async createBuckets(names: readonly string[]): Promise<void> {
    const { CreateBucketCommand } = await sdk();
    await Promise.all(names.map((Bucket) => this.client.send(new CreateBucketCommand({ Bucket }))));
  }

  /** Uploads a blob file to `containers/images/<digest>` in the bucket. */
  async putBlob(bucket: string, digest: string, file: string, size: number): Promise<void> {
    const { PutObjectCommand } = await sdk();
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: blobKey(digest),
          // small bodies as buffers: a stream costs the SDK about twice as much per request, and seeding is
          // hundreds of small objects; large layers are streamed so they are never held in memory
          Body: size <= SMALL_BODY_BYTES ? await readFile(file) : createReadStream(file),
          ContentLength: size,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (err) {
      throw new StackError(
        'STACK_SEED_FAILED',
        `s3rver: uploading ${digest} to bucket ${bucket} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  listKeys(bucket: string, prefix?: string): Promise<string[]> {
    return listBucketKeys(this.client, bucket, prefix);
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.process.stop(3_000);
  }
}

/** Starts s3rver in its own process; resolves once it answers. */
export function startS3BucketServer(opts: S3BucketServerOptions): Promise<Started<S3BucketServer>> {
  return S3BucketServer.start(opts);
}
