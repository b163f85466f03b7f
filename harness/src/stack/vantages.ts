/**
 * Vantage points: the simulated client addresses the stack's edge stamps into X-Forwarded-For.
 *
 * The choice is data (fixtures/vantages.json). Each address is checked at start-up against the bundled range
 * publications with the oracle's brute-force scan, so a refreshed snapshot that moves an address makes the stack
 * refuse to start with a message naming the vantage, instead of quietly testing the wrong thing.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { classifyByScan, type PublishedPrefix } from '../oracle/published-ranges.js';
import type { Cloud, Semantics, Vantage } from '../target/target-description.js';
import { bundledFixture } from './bundled-fixture.js';
import { StackError } from './stack-error.js';

export const BUNDLED_VANTAGES_FILE = bundledFixture('vantages.json');

export interface ExpectedClass {
  cloud: Cloud;
  region: string;
}

export interface VantageSpec {
  name: string;
  ip: string;
  /** what the publications say of `ip` under both semantics (null: plain internet) */
  expect: ExpectedClass | null;
  /** overrides `expect` under archeio semantics (shortest containing prefix wins) */
  expectArcheio?: ExpectedClass | null;
  tags?: string[];
}

export interface VantagePlan {
  /** the load balancer's own address, last in X-Forwarded-For */
  lbIp: string;
  vantages: VantageSpec[];
}

const CLOUDS = new Set(['AWS', 'GCP', 'Azure']);

function invalid(message: string): never {
  throw new StackError('STACK_VANTAGE_INVALID', message);
}

function parseExpected(value: unknown, where: string): ExpectedClass | null {
  if (value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || !CLOUDS.has(v.cloud as string) || typeof v.region !== 'string' || v.region === '') {
    invalid(`${where} must be null or {"cloud": "AWS"|"GCP"|"Azure", "region": "<region>"}`);
  }
  return { cloud: v.cloud as Cloud, region: v.region as string };
}

/** Parses the vantage file's JSON (shape only; `checkVantages` compares it with the range data). */
export function parseVantagePlan(value: unknown, source = 'vantages'): VantagePlan {
  const doc = value as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null) invalid(`${source}: must be a JSON object`);
  if (typeof doc.lbIp !== 'string' || isIP(doc.lbIp) === 0) invalid(`${source}: lbIp must be an IP address`);
  if (!Array.isArray(doc.vantages) || doc.vantages.length === 0)
    invalid(`${source}: vantages must be a non-empty array`);
  const names = new Set<string>();
  const vantages = (doc.vantages as unknown[]).map((raw, i): VantageSpec => {
    const where = `${source}: vantages[${i}]`;
    const v = raw as Record<string, unknown>;
    if (typeof v !== 'object' || v === null) invalid(`${where} must be an object`);
    if (typeof v.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(v.name))
      invalid(`${where}.name must be a lowercase name like "aws-us-east-1"`);
    if (names.has(v.name as string)) invalid(`${where}.name "${v.name}" is used twice`);
    names.add(v.name as string);
    if (typeof v.ip !== 'string' || isIP(v.ip) === 0 || v.ip.includes('%'))
      invalid(`${where}.ip must be an IPv4 or IPv6 address`);
    if (!('expect' in v)) invalid(`${where}.expect is required (null for an address no publication contains)`);
    const spec: VantageSpec = {
      name: v.name as string,
      ip: v.ip as string,
      expect: parseExpected(v.expect, `${where}.expect`),
    };
    if ('expectArcheio' in v) spec.expectArcheio = parseExpected(v.expectArcheio, `${where}.expectArcheio`);
    if (v.tags !== undefined) {
      if (!Array.isArray(v.tags) || !v.tags.every((t) => typeof t === 'string'))
        invalid(`${where}.tags must be an array of strings`);
      spec.tags = v.tags as string[];
    }
    return spec;
  });
  return { lbIp: doc.lbIp as string, vantages };
}

export function readVantagePlan(file = BUNDLED_VANTAGES_FILE): VantagePlan {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    invalid(`${file}: cannot be read as JSON: ${(err as Error).message}`);
  }
  return parseVantagePlan(json, file);
}

function expectedUnder(spec: VantageSpec, semantics: Semantics): ExpectedClass | null {
  return semantics === 'archeio' && spec.expectArcheio !== undefined ? spec.expectArcheio : spec.expect;
}

function describe(c: { cloud: string; region: string } | null): string {
  return c ? `${c.cloud} ${c.region}` : 'no publication (plain internet)';
}

/**
 * Checks every vantage against the publications under both semantics, and that the plan covers every AWS region
 * of the bucket map. Returns the vantages as the target description lists them (classification under `semantics`,
 * no edge URL yet). Every disagreement is reported at once, so a data refresh can be fixed in one pass.
 */
export function checkVantages(
  plan: VantagePlan,
  prefixes: readonly PublishedPrefix[],
  semantics: Semantics,
  bucketMapRegions: readonly string[],
): Vantage[] {
  const problems: string[] = [];
  for (const spec of plan.vantages) {
    for (const s of ['most-specific', 'archeio'] as const) {
      const found = classifyByScan(prefixes, spec.ip, s);
      const want = expectedUnder(spec, s);
      const same =
        found === null ? want === null : want !== null && found.cloud === want.cloud && found.region === want.region;
      if (!same) {
        problems.push(
          `${spec.name} (${spec.ip}) under ${s}: the range data says ${describe(found)}${found ? ` (prefix ${found.prefix})` : ''}, the vantage file expects ${describe(want)}`,
        );
      }
    }
  }
  for (const region of bucketMapRegions) {
    const covered = plan.vantages.some(
      (v) =>
        v.expect?.cloud === 'AWS' &&
        v.expect.region === region &&
        (v.expectArcheio === undefined || v.expectArcheio?.region === region),
    );
    if (!covered) problems.push(`no vantage for bucket-map region ${region} (under both semantics)`);
  }
  if (problems.length > 0) {
    invalid(
      `the vantage points disagree with the bundled IP-range data; pick new addresses in fixtures/vantages.json:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return plan.vantages.map((spec): Vantage => {
    const want = expectedUnder(spec, semantics);
    return {
      name: spec.name,
      ip: spec.ip,
      cloud: want?.cloud ?? null,
      region: want?.region ?? null,
      url: null,
      ...(spec.tags ? { tags: [...spec.tags] } : {}),
    };
  });
}
