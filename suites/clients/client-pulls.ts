/**
 * The pulls one real client does through one vantage's edge: every image of the target, one after another (two
 * shared cores), each reduced to the digest the client ended up with. Results are memoised per (tool, vantage) by
 * the suite, so the agreement check reuses the pulls its sibling checks did instead of pulling everything again.
 *
 * A failing image does not stop the others: every failure is collected, so one report shows all of them. A failure
 * that is a known limitation of the client (client-limitation.ts) is a note, and the image is checked by what the
 * client can do (skopeo: inspect --raw; ctr: fetch-object, which resolves without storing).
 *
 * crane and regctl are built from pinned versions (go-programs.ts): missing Go makes their checks not applicable, and
 * under CI=true fails them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clientReference,
  GO_PROGRAMS,
  byDigest,
  craneDigest,
  cranePullToOciLayout,
  craneValidateRemote,
  regctlCopyToOciLayout,
  regctlImageDigest,
  regctlSession,
  requireGoProgram,
  startContainerd,
  ctrContentFetch,
  ctrFetchObject,
  ctrImagePull,
  requireTool,
  skopeoCopyToDirLayout,
  skopeoCopyToOciLayout,
  skopeoInspectRaw,
  type SkopeoCopy,
  CheckFailure,
  type ImageRef,
  type Vantage,
} from '../../harness/src/index.js';
import type { ClientEndpoint } from './client-vantages.js';
import { clientCommandFailure } from './client-failure.js';
import { clientLimitation } from './client-limitation.js';

/** One image as one client saw it. */
export interface ClientPull {
  ref: string;
  expected: string;
  /** the digest the client resolved and stored */
  digest: string;
  /** which command produced it, e.g. `skopeo copy`; the first entry per ref is the one clients are compared on */
  via: string;
}

/** What one client did through one vantage. */
export interface ClientPulls {
  pulls: ClientPull[];
  /** client limitations met on the way (recorded with the result, never a failure of the target) */
  notes: string[];
  /** images the client could not pull, each with the failure it reported */
  failures: CheckFailure[];
}

const TOOL_TIMEOUT_MS = 180_000;
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * Kinds a node would not unpack: artifacts (signatures, referrers, tag-schema indexes) and images the installed
 * containerd cannot store (sha512 layers, client-limitation.ts).
 */
const NOT_UNPACKABLE_KINDS = [
  'signature',
  'referrer',
  'artifact',
  'attestation',
  'sbom',
  'referrers-fallback-tag',
  'sha512-layer',
];

export function isRunnableImage(image: ImageRef): boolean {
  return !(image.kind ?? []).some((k) => NOT_UNPACKABLE_KINDS.includes(k));
}

/**
 * Throws when the client failed to pull any image, or ended on a digest other than the target's. The failure names
 * every such image; its class is the first failure's (a digest disagreement is integrity).
 */
export function assertAgreesWithTarget(vantage: Vantage, result: Pick<ClientPulls, 'pulls' | 'failures'>): void {
  const wrong = result.pulls.filter((p) => p.digest !== p.expected);
  const lines = [
    ...result.failures.map((f) => f.message),
    ...wrong.map((p) => `${p.via} ${p.ref}: got ${p.digest}, the target says ${p.expected}`),
  ];
  if (lines.length === 0) return;
  const cls = result.failures[0]?.failureClass ?? 'integrity';
  const hops = result.failures.flatMap((f) => f.hops).slice(0, 40);
  throw new CheckFailure(cls, `through ${vantage.name}: ${lines.join('; ')}`, hops, {
    mismatches: wrong,
    failed: result.failures.length,
  });
}

/** The digest each ref was compared on (the first pull recorded for it). */
export function primaryDigests(pulls: ClientPull[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pulls) if (!out.has(p.ref)) out.set(p.ref, p.digest);
  return out;
}

/**
 * `skopeo inspect --raw` (the manifest as served, hashed here) then `skopeo copy --all --preserve-digests` (every
 * platform, every blob verified by containers/image) of every image. A Docker manifest list cannot be stored in an
 * OCI layout without rewriting it, so those go to a `dir:` layout, which keeps the bytes.
 */
export async function skopeoPulls(
  endpoint: ClientEndpoint,
  images: ImageRef[],
  signal: AbortSignal,
  log: (m: string) => void = () => {},
): Promise<ClientPulls> {
  const bin = await requireTool('skopeo', 'apt-get install skopeo');
  const out: ClientPulls = { pulls: [], notes: [], failures: [] };
  const work = await mkdtemp(join(tmpdir(), 'rc-skopeo-'));
  const opts = { timeoutMs: TOOL_TIMEOUT_MS, signal };
  try {
    for (const [i, image] of images.entries()) {
      const ref = clientReference(endpoint.baseUrl, image.ref);
      const inspected = await skopeoInspectRaw(bin, ref, opts);
      if (inspected.digest === null) {
        out.failures.push(clientCommandFailure(`skopeo inspect --raw ${ref.text}`, inspected.run));
        continue;
      }
      const dest = join(work, String(i));
      let copied: SkopeoCopy =
        inspected.mediaType === DOCKER_LIST
          ? await skopeoCopyToDirLayout(bin, ref, dest, opts)
          : await skopeoCopyToOciLayout(bin, ref, dest, opts);
      let limitation = copied.digest === null ? clientLimitation('skopeo', copied.run.stderr) : null;
      if (limitation !== null && inspected.mediaType !== DOCKER_LIST) {
        // The OCI layout refused; a dir: layout stores manifests byte for byte and may take it.
        await rm(dest, { recursive: true, force: true });
        copied = await skopeoCopyToDirLayout(bin, ref, dest, opts);
        limitation = copied.digest === null ? clientLimitation('skopeo', copied.run.stderr) : null;
      }
      await rm(dest, { recursive: true, force: true });
      if (limitation !== null) {
        out.notes.push(`${image.ref}: ${limitation.note}; checked by inspect --raw only`);
      } else if (copied.digest === null) {
        out.failures.push(clientCommandFailure(`skopeo copy ${ref.text}`, copied.run));
        continue;
      } else if (!copied.layoutConsistent) {
        out.failures.push(
          new CheckFailure(
            'integrity',
            `skopeo copy ${ref.text}: the stored top-level manifest does not hash to ${copied.digest}`,
          ),
        );
        continue;
      } else {
        out.pulls.push({ ref: image.ref, expected: image.digest, digest: copied.digest, via: 'skopeo copy' });
      }
      out.pulls.push({ ref: image.ref, expected: image.digest, digest: inspected.digest, via: 'skopeo inspect --raw' });
      log(`skopeo ${image.ref}: ${inspected.run.durationMs + copied.run.durationMs} ms`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return out;
}

/**
 * A private containerd, `ctr content fetch --all-platforms` of every image (the content store verifies sizes and
 * digests on commit), and `ctr image pull --snapshotter native` (fetch and unpack) of the first runnable image,
 * as a node would before starting it.
 */
export async function ctrPulls(
  endpoint: ClientEndpoint,
  images: ImageRef[],
  signal: AbortSignal,
  log: (m: string) => void = () => {},
): Promise<ClientPulls> {
  const ctr = await requireTool('ctr', 'apt-get install containerd');
  const containerd = await requireTool('containerd', 'apt-get install containerd');
  const daemon = await startContainerd({ bin: containerd });
  const out: ClientPulls = { pulls: [], notes: [], failures: [] };
  const opts = { address: daemon.address, timeoutMs: TOOL_TIMEOUT_MS, signal };
  try {
    for (const image of images) {
      const ref = clientReference(endpoint.baseUrl, image.ref);
      let fetched = await ctrContentFetch(ctr, ref, opts);
      let via = 'ctr content fetch';
      const limitation = fetched.digest === null ? clientLimitation('ctr', fetched.run.stderr) : null;
      if (limitation !== null) {
        out.notes.push(`${image.ref}: ${limitation.note}; resolved with ctr content fetch-object only`);
        fetched = await ctrFetchObject(ctr, ref, opts);
        via = 'ctr content fetch-object';
      }
      if (fetched.digest === null) {
        out.failures.push(clientCommandFailure(`${via} ${ref.text}`, fetched.run, fetched.hops));
        continue;
      }
      log(`${via} ${image.ref}: ${fetched.run.durationMs} ms`);
      out.pulls.push({ ref: image.ref, expected: image.digest, digest: fetched.digest, via });
    }
    const runnable = images.find(isRunnableImage);
    if (runnable !== undefined) {
      // The blobs are already in the store; the pull resolves the tag again through the edge (HEAD manifest) and
      // unpacks, which checks every layer's uncompressed digest against the config's diff_ids.
      const ref = clientReference(endpoint.baseUrl, runnable.ref);
      const pulled = await ctrImagePull(ctr, ref, opts);
      if (pulled.digest === null)
        out.failures.push(
          clientCommandFailure(`ctr image pull --snapshotter native ${ref.text}`, pulled.run, pulled.hops),
        );
      else
        out.pulls.push({ ref: runnable.ref, expected: runnable.digest, digest: pulled.digest, via: 'ctr image pull' });
    }
  } finally {
    await daemon.stop();
  }
  return out;
}

/**
 * `crane digest` (the tag, as a node resolves it) then `crane validate --remote` of `<repo>@<that digest>`: crane
 * fetches the manifest by digest and checks its bytes, then re-hashes every config and layer of every platform. An
 * image crane's validate cannot judge (client-limitation.ts) is pulled with `crane pull --format=oci` instead, every
 * blob checked by crane while it reads and re-hashed here afterwards.
 */
export async function cranePulls(
  endpoint: ClientEndpoint,
  images: ImageRef[],
  signal: AbortSignal,
  log: (m: string) => void = () => {},
): Promise<ClientPulls> {
  const bin = await requireGoProgram(GO_PROGRAMS.crane, { signal });
  const out: ClientPulls = { pulls: [], notes: [], failures: [] };
  const opts = { timeoutMs: TOOL_TIMEOUT_MS, signal };
  const work = await mkdtemp(join(tmpdir(), 'rc-crane-'));
  try {
    for (const [i, image] of images.entries()) {
      const ref = clientReference(endpoint.baseUrl, image.ref);
      const resolved = await craneDigest(bin, ref, opts);
      if (resolved.digest === null) {
        out.failures.push(clientCommandFailure(`crane digest ${ref.text}`, resolved.run));
        continue;
      }
      const pinned = byDigest(ref, resolved.digest);
      const validated = await craneValidateRemote(bin, pinned, opts);
      let ms = resolved.run.durationMs + validated.durationMs;
      let via = 'crane validate --remote';
      if (validated.exitCode !== 0) {
        const limitation = clientLimitation('crane', `${validated.stderr}\n${validated.stdout}`);
        if (limitation === null) {
          out.failures.push(clientCommandFailure(`crane validate --remote ${pinned.text}`, validated));
          continue;
        }
        const dest = join(work, String(i));
        const pulled = await cranePullToOciLayout(bin, pinned, dest, opts);
        await rm(dest, { recursive: true, force: true });
        if (pulled.digest === null) {
          out.failures.push(clientCommandFailure(`crane pull --format=oci ${pinned.text}`, pulled.run));
          continue;
        }
        if (pulled.mismatched.length > 0) {
          out.failures.push(storedBlobsMismatch(`crane pull ${pinned.text}`, pulled.mismatched));
          continue;
        }
        out.notes.push(`${image.ref}: ${limitation.note}; pulled with crane pull --format=oci, every blob re-hashed`);
        const pull = { ref: image.ref, expected: image.digest, digest: pulled.digest };
        out.pulls.push({ ...pull, via: 'crane pull --format=oci' });
        ms += pulled.run.durationMs;
        via = 'crane pull';
      }
      log(`crane digest + ${via} ${image.ref}: ${ms} ms`);
      out.pulls.push({ ref: image.ref, expected: image.digest, digest: resolved.digest, via: 'crane digest' });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return out;
}

/**
 * `regctl image copy` of every image into an OCI layout (every platform, every blob, manifests byte for byte), each
 * stored blob re-hashed against its name, then `regctl image digest` (HEAD) of the tag. Runs with a private regctl
 * configuration (regctl.ts), never the user's.
 */
export async function regctlPulls(
  endpoint: ClientEndpoint,
  images: ImageRef[],
  signal: AbortSignal,
  log: (m: string) => void = () => {},
): Promise<ClientPulls> {
  const bin = await requireGoProgram(GO_PROGRAMS.regctl, { signal });
  const out: ClientPulls = { pulls: [], notes: [], failures: [] };
  const opts = { timeoutMs: TOOL_TIMEOUT_MS, signal };
  const session = await regctlSession();
  const work = await mkdtemp(join(tmpdir(), 'rc-regctl-layout-'));
  try {
    for (const [i, image] of images.entries()) {
      const ref = clientReference(endpoint.baseUrl, image.ref);
      const dest = join(work, String(i));
      const copied = await regctlCopyToOciLayout(bin, ref, dest, session, opts);
      await rm(dest, { recursive: true, force: true });
      if (copied.digest === null) {
        out.failures.push(clientCommandFailure(`regctl image copy ${ref.text}`, copied.run));
        continue;
      }
      if (copied.mismatched.length > 0) {
        out.failures.push(storedBlobsMismatch(`regctl image copy ${ref.text}`, copied.mismatched));
        continue;
      }
      const resolved = await regctlImageDigest(bin, ref, session, opts);
      if (resolved.digest === null) {
        out.failures.push(clientCommandFailure(`regctl image digest ${ref.text}`, resolved.run));
        continue;
      }
      log(`regctl ${image.ref}: ${copied.blobs} blobs, ${copied.run.durationMs + resolved.run.durationMs} ms`);
      out.pulls.push({ ref: image.ref, expected: image.digest, digest: copied.digest, via: 'regctl image copy' });
      out.pulls.push({ ref: image.ref, expected: image.digest, digest: resolved.digest, via: 'regctl image digest' });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await session.close();
  }
  return out;
}

/** A client wrote blobs whose bytes are not their names' digests: an integrity failure naming the first five. */
function storedBlobsMismatch(command: string, mismatched: readonly string[]): CheckFailure {
  const which = mismatched.slice(0, 5).join('; ');
  return new CheckFailure('integrity', `${command}: stored blobs do not match their digests: ${which}`);
}
