/**
 * The mirror plan: which fixture blobs live in which bucket, declared in terms of the fixture set
 * (fixtures/mirror-plan.json) and resolved to digests at start-up, so the fallback path has ground truth.
 *
 * The plan deliberately leaves gaps (a region missing some blobs, an empty bucket, the default base missing one);
 * the resolved form (bucket base URL → digests) is what the target description publishes and what the routing
 * oracle and the mirror suite read.
 */
import { readFileSync } from 'node:fs';
import type { MirrorPlan } from '../target/target-description.js';
import { bundledFixture } from './bundled-fixture.js';
import { StackError } from './stack-error.js';

export const BUNDLED_MIRROR_PLAN_FILE = bundledFixture('mirror-plan.json');

/** The fields of a fixture blob the plan can select on (harness/src/images FixtureBlob has these). */
export interface PlanBlob {
  repo: string;
  digest: string;
  size: number;
  role: string;
}

export type BlobSelector = 'all' | { repo?: string; role?: string };

export interface BucketRule {
  holds: BlobSelector[];
  lacks?: BlobSelector[];
  why?: string;
}

export interface MirrorPlanSpec {
  version: 1;
  /** bucket key ("us-east-1", "default", "*") → rule */
  buckets: Record<string, BucketRule>;
}

function invalid(message: string): never {
  throw new StackError('STACK_MIRROR_PLAN_INVALID', message);
}

function parseSelector(v: unknown, where: string): BlobSelector {
  if (v === 'all') return 'all';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(`${where} must be "all" or {"repo"?, "role"?}`);
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'repo' && k !== 'role');
  if (extra.length > 0) invalid(`${where} has unknown field(s) ${extra.join(', ')} (a selector has repo and/or role)`);
  if (o.repo === undefined && o.role === undefined) invalid(`${where} must name a repo or a role`);
  for (const k of ['repo', 'role'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'string') invalid(`${where}.${k} must be a string`);
  return {
    ...(o.repo !== undefined ? { repo: o.repo as string } : {}),
    ...(o.role !== undefined ? { role: o.role as string } : {}),
  };
}

export function parseMirrorPlanSpec(value: unknown, source = 'mirror plan'): MirrorPlanSpec {
  const doc = value as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null) invalid(`${source}: must be a JSON object`);
  if (doc.version !== 1) invalid(`${source}: version must be 1`);
  if (typeof doc.buckets !== 'object' || doc.buckets === null) invalid(`${source}: buckets must be an object`);
  const buckets: Record<string, BucketRule> = {};
  for (const [key, raw] of Object.entries(doc.buckets as object)) {
    const where = `${source}: buckets["${key}"]`;
    const r = raw as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) invalid(`${where} must be an object`);
    if (!Array.isArray(r.holds)) invalid(`${where}.holds must be an array of selectors (may be empty)`);
    if (r.lacks !== undefined && !Array.isArray(r.lacks)) invalid(`${where}.lacks must be an array of selectors`);
    buckets[key] = {
      holds: (r.holds as unknown[]).map((s, i) => parseSelector(s, `${where}.holds[${i}]`)),
      ...(r.lacks !== undefined
        ? { lacks: (r.lacks as unknown[]).map((s, i) => parseSelector(s, `${where}.lacks[${i}]`)) }
        : {}),
      ...(typeof r.why === 'string' ? { why: r.why } : {}),
    };
  }
  return { version: 1, buckets };
}

export function readMirrorPlanSpec(file = BUNDLED_MIRROR_PLAN_FILE): MirrorPlanSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    invalid(`${file}: cannot be read as JSON: ${(err as Error).message}`);
  }
  return parseMirrorPlanSpec(json, file);
}

function matches(sel: BlobSelector, blob: PlanBlob): boolean {
  if (sel === 'all') return true;
  return (sel.repo === undefined || sel.repo === blob.repo) && (sel.role === undefined || sel.role === blob.role);
}

export interface ResolvedMirrorPlan {
  /** bucket key → digests (sorted), for seeding */
  byKey: Record<string, string[]>;
  /** the target description's form: bucket base URL → digests */
  plan: MirrorPlan;
}

/**
 * Resolves the plan against the fixture blobs. `bases` maps every bucket key to its base URL. A selector that
 * matches nothing is an error (a renamed fixture role must not silently close a gap), and so is a key that is not
 * a bucket. When the same digest is selected by one rule and excluded by another, `lacks` wins.
 */
export function resolveMirrorPlan(
  spec: MirrorPlanSpec,
  blobs: readonly PlanBlob[],
  bases: Readonly<Record<string, string>>,
): ResolvedMirrorPlan {
  for (const key of Object.keys(spec.buckets)) {
    if (key !== '*' && !(key in bases))
      invalid(
        `mirror plan: buckets["${key}"] is not a bucket of this stack (buckets: ${Object.keys(bases).sort().join(', ')})`,
      );
  }
  for (const [key, rule] of Object.entries(spec.buckets)) {
    for (const sel of [...rule.holds, ...(rule.lacks ?? [])]) {
      if (!blobs.some((b) => matches(sel, b)))
        invalid(`mirror plan: buckets["${key}"] selector ${JSON.stringify(sel)} matches no fixture blob`);
    }
  }
  const byKey: Record<string, string[]> = {};
  const planBuckets: Record<string, string[]> = {};
  const notes: string[] = [];
  for (const key of Object.keys(bases).sort()) {
    const rule = spec.buckets[key] ?? spec.buckets['*'];
    if (!rule) invalid(`mirror plan: no rule for bucket "${key}" and no "*" rule`);
    const held = new Set(blobs.filter((b) => rule.holds.some((s) => matches(s, b))).map((b) => b.digest));
    for (const b of blobs) if ((rule.lacks ?? []).some((s) => matches(s, b))) held.delete(b.digest);
    byKey[key] = [...held].sort();
    planBuckets[bases[key]!] = byKey[key]!;
    if (spec.buckets[key]?.why) notes.push(`${key}: ${spec.buckets[key]!.why}`);
  }
  if (spec.buckets['*']?.why) notes.push(`every other bucket: ${spec.buckets['*'].why}`);
  return { byKey, plan: { buckets: planBuckets, notes } };
}
