/**
 * mirror: an audit of every bucket in the target's bucket map against the target's images.
 *
 * One check per bucket base (regions that share a base share the check): HEAD `<base>/containers/images/<digest>`
 * for every config and layer blob of every image, a sampled GET with the digest checked, coverage reported, and
 * what is missing or corrupted listed.
 *
 * Verdicts:
 * - with a mirror plan that covers the base (the local stack: the plan is ground truth), a blob the plan puts there
 *   that is missing or corrupt is an integrity failure; a blob the plan leaves out and the bucket lacks is a gap,
 *   reported, not failed; a blob the bucket holds against the plan means the plan is stale (harness error: the
 *   routing oracle's expectations would be wrong);
 * - without a plan (remote targets), gaps are coverage, never failures; corrupt objects still fail;
 * - a blob the audit could not decide (5xx, timeout) is an availability error.
 *
 * The blob list is the image catalog, read from the upstream directly (harness/src/run/image-catalog.ts), so a
 * redirector fault cannot hide a gap. It is built from the description's `images`, whatever they are (built-in
 * fixtures or content seeded by hand). An image the upstream cannot give us leaves its blobs unaudited: with a
 * mirror plan `mirror/coverage` fails for it (harness: the description lists what the world does not have; an
 * upstream that did not answer is an availability error); without one it is logged.
 */
import {
  CheckFailure,
  Inconclusive,
  NotApplicable,
  imageCatalogFor,
  loadMirrorPlan,
  type Check,
  type MirrorPlan,
  type TargetDescription,
} from '../../harness/src/index.js';
import { auditBucket, type AuditedBlob, type BucketAudit } from './bucket-audit.js';

export const MIRROR_SUITE = 'mirror';

interface BucketBase {
  base: string;
  /** a short name: `default`, or the region whose name the bucket carries (else the first region using it) */
  key: string;
  regions: string[];
  isDefault: boolean;
}

function trim(base: string): string {
  return base.replace(/\/+$/, '');
}

/** The distinct bases of the bucket map, each with the regions that use it. */
export function bucketBases(target: TargetDescription): BucketBase[] {
  const byBase = new Map<string, BucketBase>();
  const get = (base: string) => {
    const b = trim(base);
    let entry = byBase.get(b);
    if (!entry) {
      entry = { base: b, key: '', regions: [], isDefault: false };
      byBase.set(b, entry);
    }
    return entry;
  };
  get(target.bucketMap.default).isDefault = true;
  for (const [region, base] of Object.entries(target.bucketMap.regions)) get(base).regions.push(region);
  for (const entry of byBase.values()) {
    entry.key = entry.isDefault
      ? 'default'
      : (entry.regions.find((r) => entry.base.includes(r)) ?? entry.regions[0] ?? entry.base);
  }
  return [...byBase.values()];
}

/** The plan's digests for a base (keys are bucket base URLs exactly as in the bucket map; compared without a trailing slash). */
function plannedFor(plan: MirrorPlan | null, base: string): Set<string> | null {
  if (plan === null) return null;
  const entry = Object.entries(plan.buckets).find(([b]) => trim(b) === base);
  return entry ? new Set(entry[1]) : null;
}

function list(blobs: readonly AuditedBlob[], max = 8): string {
  const shown = blobs
    .slice(0, max)
    .map((b) => `${b.repository}@${b.digest.slice(0, 19)}…${b.reason ? ` (${b.reason})` : ''}`);
  return `${shown.join(', ')}${blobs.length > max ? ` and ${blobs.length - max} more` : ''}`;
}

export function mirrorChecks(target: TargetDescription): Check[] {
  const bases = bucketBases(target);
  const audits = new Map<string, Promise<BucketAudit>>();
  let plan: MirrorPlan | null | undefined;
  const planOf = () => (plan === undefined ? (plan = loadMirrorPlan(target.mirrorPlan)) : plan);
  const audit = (b: BucketBase): Promise<BucketAudit> => {
    let p = audits.get(b.base);
    if (!p) {
      p = (async () => {
        const catalog = await imageCatalogFor(target);
        if (catalog.blobs.length === 0) {
          throw new CheckFailure(
            'harness',
            `no blob of the target's images could be listed from the upstream: ${catalog.problems.join('; ') || 'the target lists no images'}`,
          );
        }
        return auditBucket(b.base, catalog.blobs);
      })();
      audits.set(b.base, p);
    }
    return p;
  };

  const checks: Check[] = bases.map((b) => ({
    id: `${MIRROR_SUITE}/bucket-${b.key}`,
    suite: MIRROR_SUITE,
    title: `bucket ${b.base} (${b.isDefault ? 'default base' : ''}${b.isDefault && b.regions.length ? ', ' : ''}${b.regions.join(', ')}) holds intact copies of the image blobs`,
    rule: 'mirror layout <base>/containers/images/<digest> (docs/reference/archeio.md#url-construction; redirector rule 6 existence check); with a mirror plan: the plan is ground truth',
    async run(ctx) {
      const a = await audit(b);
      const planned = plannedFor(planOf(), b.base);
      const missing: AuditedBlob[] = [];
      const gaps: AuditedBlob[] = [];
      const unplanned: AuditedBlob[] = [];
      const corrupted = a.blobs.filter((x) => x.state === 'corrupted');
      const unknown = a.blobs.filter((x) => x.state === 'unknown');
      for (const x of a.blobs) {
        if (x.state === 'absent') (planned?.has(x.digest) ? missing : gaps).push(x);
        if (x.state === 'present' && planned !== null && !planned.has(x.digest)) unplanned.push(x);
      }
      const coverage = {
        base: b.base,
        regions: b.regions,
        present: a.present,
        total: a.total,
        percent: a.total === 0 ? 100 : Math.round((a.present / a.total) * 1000) / 10,
        sampled: a.blobs.filter((x) => x.sampled).length,
        plan: planned === null ? 'none' : `${planned.size} blobs planned`,
        gaps: gaps.map((x) => x.digest),
        missing: missing.map((x) => x.digest),
        corrupted: corrupted.map((x) => ({ digest: x.digest, reason: x.reason })),
        unplanned: unplanned.map((x) => x.digest),
      };
      ctx.record?.([], { coverage });
      ctx.log(
        `${b.key}: ${a.present}/${a.total} present, ${coverage.sampled} hashed, ${gaps.length} gap(s), ${missing.length} missing, ${corrupted.length} corrupted`,
      );
      const hopsOf = (xs: AuditedBlob[]) => xs.slice(0, 5).flatMap((x) => x.hops);
      if (corrupted.length > 0 || missing.length > 0) {
        const parts = [
          corrupted.length > 0 ? `${corrupted.length} corrupted: ${list(corrupted)}` : '',
          missing.length > 0 ? `${missing.length} missing that the mirror plan puts there: ${list(missing)}` : '',
        ].filter(Boolean);
        throw new CheckFailure(
          'integrity',
          `bucket ${b.key} (${b.base}): ${parts.join('; ')}`,
          hopsOf([...corrupted, ...missing]),
          { coverage },
        );
      }
      if (unknown.length > 0) {
        throw new CheckFailure(
          'availability',
          `bucket ${b.key}: ${unknown.length} blob(s) could not be audited: ${list(unknown)}`,
          hopsOf(unknown),
          { coverage },
        );
      }
      if (unplanned.length > 0) {
        throw new CheckFailure(
          'harness',
          `bucket ${b.key} holds ${unplanned.length} blob(s) the mirror plan says it lacks (the plan is stale): ${list(unplanned)}`,
          hopsOf(unplanned),
          { coverage },
        );
      }
    },
  }));

  checks.push({
    id: `${MIRROR_SUITE}/coverage`,
    suite: MIRROR_SUITE,
    title: 'coverage of every bucket base, per region (a report; gaps are not failures)',
    rule: 'mirror coverage per region (replication lag: docs/reference/incidents.md#routing-and-client-ip R4)',
    async run(ctx) {
      if (bases.length === 0) throw new NotApplicable('the bucket map lists no bucket');
      const settled = await Promise.allSettled(bases.map((b) => audit(b)));
      const perRegion: Record<string, string> = {};
      const perBase: Record<string, { present: number; total: number }> = {};
      settled.forEach((s, i) => {
        const b = bases[i]!;
        const text =
          s.status === 'fulfilled'
            ? `${s.value.present}/${s.value.total}`
            : `not audited: ${(s.reason as Error).message}`;
        if (s.status === 'fulfilled') perBase[b.base] = { present: s.value.present, total: s.value.total };
        if (b.isDefault) perRegion['(default)'] = text;
        for (const r of b.regions) perRegion[r] = text;
      });
      // Images the target lists but the upstream could not give us: their blobs were audited nowhere.
      const catalog = await imageCatalogFor(target).catch(() => null);
      const unreadable = catalog?.unreadable ?? [];
      ctx.record?.([], {
        coverage: perRegion,
        bases: perBase,
        ...(unreadable.length > 0 ? { unreadableImages: unreadable } : {}),
      });
      const audited = settled.filter((s) => s.status === 'fulfilled').length;
      if (audited === 0)
        throw new CheckFailure(
          'availability',
          `no bucket could be audited: ${(settled[0] as PromiseRejectedResult).reason}`,
        );
      if (unreadable.length > 0) {
        const what = `${unreadable.length} image(s) of the target could not be read from the upstream, so no bucket was audited for their blobs: ${unreadable
          .slice(0, 5)
          .map((u) => `${u.ref} (${u.message})`)
          .join('; ')}${unreadable.length > 5 ? ` and ${unreadable.length - 5} more` : ''}`;
        // Without a plan (remote targets) the audit is a coverage report, and an upstream that wants a token the
        // catalog does not fetch is expected: say so and go on. With a plan the description claims to be complete.
        if (planOf() === null) {
          ctx.log(what);
        } else if (unreadable.some((u) => u.status === undefined || u.status >= 500 || u.status === 429)) {
          throw new Inconclusive('availability', what);
        } else {
          throw new CheckFailure('harness', `${what}; the description lists images its upstream does not have`);
        }
      }
    },
  });
  return checks;
}
