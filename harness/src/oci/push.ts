/**
 * Pushes one OCI image layout into a registry with the distribution-spec push API, so the local stack can seed the
 * Debian `docker-registry` (CNCF distribution 2.8) with exactly the fixtures the embedded registry serves
 *. Blobs: `HEAD` (skip when present), then a monolithic upload: `POST /v2/<name>/blobs/uploads/` → 202
 * + Location, `PUT <Location>&digest=<d>` with the whole body → 201 (spec "Pushing a blob monolithically", the
 * POST-then-PUT form). Manifests: children before the indexes that list them, each `PUT` by digest, then by every
 * tag index.json gives it.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import pLimit from 'p-limit';
import { descriptorProblem, isImageIndexJson, isImageManifestJson, type Descriptor } from './descriptor.js';
import { digestOf, parseDigest } from './digest.js';
import { OciClient } from './oci-client.js';
import type { Exchange } from './oci-transport.js';
import { OciError } from './oci-error.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface PushOptions {
  dispatcher?: Dispatcher;
  /** headers for every request (e.g. Authorization) */
  headers?: Record<string, string>;
  /** blob uploads in flight at once; default 4 */
  concurrency?: number;
}

export interface PushResult {
  repo: string;
  blobs: { digest: string; size: number; uploaded: boolean }[];
  manifests: { digest: string; mediaType: string; tags: string[] }[];
}

interface LayoutManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** manifests this one lists (index children), pushed first */
  children: string[];
  tags: string[];
}

function blobFile(layoutDir: string, digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return path.join(layoutDir, 'blobs', algorithm, encoded);
}

/** Reads index.json and every manifest reachable from it; collects the blobs they reference. */
export async function readLayoutGraph(
  layoutDir: string,
): Promise<{ manifests: LayoutManifest[]; blobs: Map<string, number> }> {
  let index: unknown;
  try {
    await stat(path.join(layoutDir, 'oci-layout'));
    index = JSON.parse(await readFile(path.join(layoutDir, 'index.json'), 'utf8'));
  } catch (e) {
    throw new OciError('BAD_LAYOUT', `${layoutDir} is not an OCI image layout (oci-layout + index.json)`, { cause: e });
  }
  if (!isImageIndexJson(index)) throw new OciError('BAD_LAYOUT', `${layoutDir}/index.json has no manifests[]`);
  const manifests = new Map<string, LayoutManifest>();
  const blobs = new Map<string, number>();
  const visit = async (d: Descriptor, tag?: string): Promise<void> => {
    const problem = descriptorProblem(d);
    if (problem !== null) throw new OciError('BAD_LAYOUT', `${layoutDir}: ${problem}`);
    const known = manifests.get(d.digest);
    if (known !== undefined) {
      if (tag !== undefined && !known.tags.includes(tag)) known.tags.push(tag);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(blobFile(layoutDir, d.digest));
    } catch (e) {
      throw new OciError('BAD_LAYOUT', `${layoutDir}: manifest ${d.digest} is missing`, { cause: e });
    }
    if (digestOf(bytes, parseDigest(d.digest).algorithm as 'sha256' | 'sha512') !== d.digest) {
      throw new OciError('BAD_LAYOUT', `${layoutDir}: blob ${d.digest} does not hash to its name`);
    }
    const json = JSON.parse(bytes.toString('utf8')) as unknown;
    const m: LayoutManifest = {
      digest: d.digest,
      mediaType: d.mediaType,
      bytes,
      children: [],
      tags: tag !== undefined ? [tag] : [],
    };
    manifests.set(d.digest, m);
    if (isImageIndexJson(json)) {
      for (const child of json.manifests) {
        m.children.push(child.digest);
        await visit(child);
      }
    } else if (isImageManifestJson(json)) {
      for (const b of [json.config, ...json.layers]) blobs.set(b.digest, b.size);
    } else {
      throw new OciError('BAD_LAYOUT', `${layoutDir}: ${d.digest} is neither an index nor an image manifest`);
    }
  };
  for (const d of index.manifests) await visit(d, d.annotations?.[REF_NAME]);
  // children before parents: a registry may refuse an index whose manifests it does not have yet
  const ordered: LayoutManifest[] = [];
  const done = new Set<string>();
  const place = (m: LayoutManifest): void => {
    if (done.has(m.digest)) return;
    done.add(m.digest);
    for (const c of m.children) place(manifests.get(c)!);
    ordered.push(m);
  };
  for (const m of manifests.values()) place(m);
  return { manifests: ordered, blobs };
}

async function expect(client: OciClient, ex: Exchange, ok: number[], what: string): Promise<void> {
  if (ok.includes(ex.status)) {
    for await (const _ of ex.body) {
      // drain
    }
    return;
  }
  let text = '';
  for await (const chunk of ex.body) if (text.length < 4096) text += (chunk as Buffer).toString('utf8');
  throw new OciError('HTTP_STATUS', `${what}: HTTP ${ex.status} from ${ex.url}: ${text.slice(0, 300)}`, {
    hops: ex.hops,
    status: ex.status,
    details: { body: text.slice(0, 4096), registry: client.baseUrl },
  });
}

export async function pushLayout(
  registryUrl: string,
  repo: string,
  layoutDir: string,
  opts: PushOptions = {},
): Promise<PushResult> {
  const client = new OciClient({
    baseUrl: registryUrl,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    maxRedirects: 0,
  });
  const { manifests, blobs } = await readLayoutGraph(layoutDir);
  const limit = pLimit(opts.concurrency ?? 4);
  const blobResults = await Promise.all(
    [...blobs].map(([digest, size]) =>
      limit(async () => {
        const head = await client.exchange('HEAD', `/v2/${repo}/blobs/${digest}`);
        await expect(client, head, [200, 404], `HEAD blob ${digest}`);
        if (head.status === 200) return { digest, size, uploaded: false };
        const start = await client.exchange('POST', `/v2/${repo}/blobs/uploads/`, {
          follow: false,
          body: '',
          headers: { 'content-length': '0' },
        });
        const location = start.headers.location;
        await expect(client, start, [202], `start upload of ${digest}`);
        if (typeof location !== 'string')
          throw new OciError('BAD_RESPONSE', `upload of ${digest}: 202 without Location`, { hops: start.hops });
        const target = new URL(location, start.url);
        target.searchParams.append('digest', digest);
        const file = blobFile(layoutDir, digest);
        const put = await client.exchange('PUT', target.toString(), {
          follow: false,
          body: createReadStream(file, { highWaterMark: 1024 * 1024 }),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        });
        await expect(client, put, [201], `PUT blob ${digest}`);
        return { digest, size, uploaded: true };
      }),
    ),
  );
  const manifestResults: PushResult['manifests'] = [];
  for (const m of manifests) {
    const headers = { 'content-type': m.mediaType };
    const byDigest = await client.exchange('PUT', `/v2/${repo}/manifests/${m.digest}`, {
      follow: false,
      body: m.bytes,
      headers,
    });
    await expect(client, byDigest, [201], `PUT manifest ${m.digest}`);
    for (const tag of m.tags) {
      const byTag = await client.exchange('PUT', `/v2/${repo}/manifests/${tag}`, {
        follow: false,
        body: m.bytes,
        headers,
      });
      await expect(client, byTag, [201], `PUT manifest ${repo}:${tag}`);
    }
    manifestResults.push({ digest: m.digest, mediaType: m.mediaType, tags: [...m.tags] });
  }
  return { repo, blobs: blobResults, manifests: manifestResults };
}
