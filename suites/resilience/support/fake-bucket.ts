/**
 * A stand-in bucket that answers existence HEADs instantly, for feeding a redirector's caches with more distinct
 * digests than s3rver could answer in the time (a million of them in the soak run): a digest whose last hex digit
 * is even "exists" (200), an odd one does not (404, S3's answer for a missing key). Loopback only; counts its HEADs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeBucket {
  /** base URL for a bucket map entry: http://127.0.0.1:<port>/fake-bucket */
  base: string;
  heads(): number;
  stop(): Promise<void>;
}

/** Whether the fake bucket holds this digest. */
export function fakeBucketHolds(digest: string): boolean {
  return parseInt(digest.slice(-1), 16) % 2 === 0;
}

export async function startFakeBucket(): Promise<FakeBucket> {
  let heads = 0;
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    if (req.method === 'HEAD') heads++;
    const digest = /sha256:[0-9a-f]{64}$/.exec(req.url ?? '')?.[0];
    res.writeHead(digest !== undefined && fakeBucketHolds(digest) ? 200 : 404, { 'content-length': '0' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/fake-bucket`,
    heads: () => heads,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
