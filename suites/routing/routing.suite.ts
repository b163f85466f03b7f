/**
 * routing: where the first hop goes. Every vantage × every request kind, asserting the status
 * (307, or the direct answer) and the exact first-hop target from the routing oracle; an anti-spoofing check per
 * vantage; GLOBAL-shadowed prefixes under the declared semantics.
 *
 * The first hop is fetched without following (OciClient.firstHop): the route is the product, so the check asserts
 * on the redirect itself. Whether the bytes behind it are right is the integrity suite's business.
 */
import {
  NotApplicable,
  REQUEST_KINDS,
  clientForRoute,
  findShadowedPrefixes,
  judgeFirstHop,
  targetOracle,
  vantageRoute,
  type Check,
  type CheckContext,
  type RequestKind,
  type RoutingOracle,
  type TargetDescription,
  type Vantage,
  type VantageRoute,
} from '../../harness/src/index.js';

export const ROUTING_SUITE = 'routing';

/** The rule each request kind enforces (docs/reference/archeio.md#decision-list and #url-construction). */
export const KIND_RULES: Record<RequestKind, { title: string; rule: string }> = {
  'manifest-by-tag': {
    title: 'manifest by tag goes to the upstream',
    rule: 'redirector rule 5: non-blob /v2 → 307 upstream + /v2/ + upstreamPath + path (docs/reference/archeio.md#url-construction)',
  },
  'manifest-by-digest': {
    title: 'manifest by digest goes to the upstream',
    rule: 'redirector rule 5: manifests never go to a bucket (docs/reference/archeio.md#decision-list 5.3)',
  },
  'tag-list': {
    title: 'tag list goes to the upstream with n and last intact',
    rule: 'redirector rule 4: the query string survives (archeio kubernetes/registry.k8s.io#326); rule 5',
  },
  'blob-in-bucket': {
    title: "a blob the vantage's bucket holds is served from that bucket",
    rule: 'redirector rule 6: HEAD <base>/containers/images/<digest> = 200 → 307 there (GCP: upstream)',
  },
  'blob-absent-from-bucket': {
    title: "a blob the vantage's bucket lacks falls back to the upstream",
    rule: 'redirector rule 6: existence check miss → 307 upstream (docs/reference/incidents.md#routing-and-client-ip R4)',
  },
  'blob-upstream-only': {
    title: 'a blob no bucket holds goes to the upstream',
    rule: 'redirector rule 6: existence check miss → 307 upstream',
  },
  'signature-tag': {
    title: 'a cosign signature tag goes to the signature upstream',
    rule: 'redirector rule 5: /manifests/sha256-<hex>.sig|.att → SIGNATURE_UPSTREAM_ENDPOINT (kubernetes/registry.k8s.io#321)',
  },
  root: { title: '/ redirects to the info page', rule: 'redirector rule 2: / → 307 INFO_URL' },
  privacy: { title: '/privacy redirects to the privacy policy', rule: 'redirector rule 2: /privacy → 307 PRIVACY_URL' },
  'unknown-path': {
    title: 'a path outside /v2 is a 404 (CRI-O’s /v1/_ping)',
    rule: 'redirector rule 2: other paths → 404 (docs/reference/incidents.md#edge-and-network N2)',
  },
};

export interface RoutingSuiteOptions {
  /** request kinds of the matrix (default all) */
  kinds?: readonly RequestKind[];
  /** GLOBAL-shadowed prefixes sampled from the publications and posed as in xff mode, per address family (default 1) */
  shadowedSamplesPerFamily?: number;
}

const GCP_FALLBACK_IP = '35.220.26.1'; // archeio's GCP test address (docs/reference/incidents.md#representative-ips)
const AWS_FALLBACK_IP = '35.180.1.1'; // archeio's AWS eu-west-3 test address

/** Runs one request from a route and judges its first hop. */
async function probeFrom(
  ctx: CheckContext,
  oracle: RoutingOracle,
  route: VantageRoute,
  request: { method: string; path: string },
  kind: string,
  extra: {
    expected?: Awaited<ReturnType<RoutingOracle['expect']>>;
    semantics?: TargetDescription['semantics'];
    details?: Record<string, unknown>;
  } = {},
): Promise<void> {
  const client = clientForRoute(route, { signal: ctx.signal });
  let hop;
  try {
    hop = (await client.firstHop(request.method, request.path)).hop;
  } catch (err) {
    // a transport failure still has the one hop recorded (status 0); judge it as "no response"
    hop = (err as { hops?: { status: number }[] }).hops?.[0] as Parameters<typeof judgeFirstHop>[0]['hop'];
    if (!hop) throw err;
  }
  ctx.record?.([hop], extra.details);
  const xff = route.headers['x-forwarded-for'];
  const evidence = await judgeFirstHop({
    oracle,
    vantage: route.vantage,
    request,
    hop,
    kind,
    ...(xff !== undefined ? { xff } : {}),
    ...(extra.expected ? { expected: extra.expected } : {}),
    ...(extra.semantics ? { semantics: extra.semantics } : {}),
  });
  ctx.record?.([], { routing: evidence });
}

function matrixCheck(target: TargetDescription, vantage: Vantage, kind: RequestKind): Check {
  return {
    id: `${ROUTING_SUITE}/${kind}@${vantage.name}`,
    suite: ROUTING_SUITE,
    title: `${KIND_RULES[kind].title} (from ${vantage.name})`,
    rule: KIND_RULES[kind].rule,
    vantage,
    async run(ctx) {
      const route = vantageRoute(target, vantage);
      const oracle = await targetOracle(target);
      const probe = await oracle.probeFor(kind, vantage);
      if (!probe) throw new NotApplicable(oracle.unavailableReason(kind, vantage));
      if (probe.note) ctx.log(probe.note);
      await probeFrom(ctx, oracle, route, probe, kind, probe.note ? { details: { probeNote: probe.note } } : {});
    },
  };
}

/**
 * A client-supplied X-Forwarded-For entry in front of the load balancer's must not change the route: the client is
 * the second-to-last entry (GCLB contract, docs/reference/archeio.md#client-ip), never the leftmost (distribution and
 * mirrorbits trust the leftmost, which a client controls: docs/reference/archeio.md#other-redirectors). The spoofed
 * address is of a class that would route differently (GCP in front of a non-GCP vantage, an AWS region in front of a
 * GCP one), and the blob is chosen so the two routes differ.
 */
function antiSpoofingCheck(target: TargetDescription, vantage: Vantage): Check {
  return {
    id: `${ROUTING_SUITE}/anti-spoofing@${vantage.name}`,
    suite: ROUTING_SUITE,
    title: `a client-supplied X-Forwarded-For entry does not move ${vantage.name}'s blob route`,
    rule: 'client IP = second-to-last X-Forwarded-For entry (GCLB; docs/reference/archeio.md#client-ip); a deployed instance must ignore client XFF (docs/reference/incidents.md#routing-and-client-ip R10)',
    vantage,
    async run(ctx) {
      const oracle = await targetOracle(target);
      const isGcp = oracle.classify(vantage)?.cloud === 'GCP';
      const candidates: Vantage[] = isGcp
        ? [
            ...target.vantages.filter(
              (v) => v.cloud === 'AWS' && v.region && target.bucketMap.regions[v.region] && v.ip,
            ),
            { name: 'spoof-aws', ip: AWS_FALLBACK_IP, cloud: 'AWS', region: 'eu-west-3', url: null },
          ]
        : [
            ...target.vantages.filter((v) => v.cloud === 'GCP' && v.ip),
            { name: 'spoof-gcp', ip: GCP_FALLBACK_IP, cloud: 'GCP', region: 'europe-north1', url: null },
          ];
      // the blob must be one whose route differs between the two: held by the non-GCP side's bucket
      let spoof: Vantage | undefined;
      let probe: Awaited<ReturnType<RoutingOracle['probeFor']>> = null;
      for (const c of candidates) {
        probe = await oracle.probeFor('blob-in-bucket', isGcp ? c : vantage);
        if (probe) {
          spoof = c;
          break;
        }
        if (!isGcp) break; // the vantage's own bucket holds nothing: no spoof address changes that
      }
      if (!probe || !spoof)
        throw new NotApplicable(
          `${oracle.unavailableReason('blob-in-bucket', isGcp ? candidates[0]! : vantage)}: a spoofed route could not be told apart`,
        );
      const route = vantageRoute(target, vantage, { spoofedXff: [spoof.ip] });
      const honest = await oracle.expect(vantage, probe);
      const spoofed = await oracle.expect(spoof, probe);
      if (honest.location === spoofed.location) {
        throw new NotApplicable(
          `${vantage.name} and the spoofed ${spoof.name} (${spoof.ip}) route ${probe.path} alike; spoofing cannot be observed`,
        );
      }
      await probeFrom(ctx, oracle, route, probe, 'anti-spoofing', {
        expected: honest,
        details: { spoofedIp: spoof.ip, spoofedAs: spoof.name, routeIfSpoofingWorked: spoofed.location },
      });
    },
  };
}

/**
 * A GLOBAL-shadowed regional prefix routes by the declared semantics: under archeio the client is GLOBAL (default
 * base), under most-specific it gets its region's bucket (docs/reference/archeio.md#ip-classification,
 * docs/reference/archeio.md#quirks Q10). The check also records what the other semantics would have answered, so a
 * report shows the difference the choice makes.
 */
function shadowedCheck(target: TargetDescription, vantage: Vantage, posable: boolean): Check {
  return {
    id: `${ROUTING_SUITE}/shadowed-prefix@${vantage.name}`,
    suite: ROUTING_SUITE,
    title: `a GLOBAL-shadowed address (${vantage.name}, ${vantage.ip}) routes by ${target.semantics} semantics`,
    rule: `IP classification semantics "${target.semantics}" (docs/reference/archeio.md#ip-classification: archeio = shortest prefix, GLOBAL shadows 150 v4 / 97 v6 regional prefixes)`,
    vantage,
    async run(ctx) {
      if (!posable)
        throw new NotApplicable(
          `posing as ${vantage.ip} needs xff mode; "${target.name}" is in ${target.ipMode} mode and has no such vantage`,
        );
      const route = vantageRoute(target, vantage);
      const oracle = await targetOracle(target);
      // the owner of the address is its most specific prefix (under archeio semantics a shadowed vantage may be
      // declared GLOBAL, which is what that semantics calls it)
      const owner = oracle.classifyUnder(vantage, 'most-specific');
      const regionalBase = owner?.cloud === 'AWS' ? target.bucketMap.regions[owner.region] : undefined;
      if (!regionalBase)
        throw new NotApplicable(
          `${owner?.region ?? vantage.ip} has no bucket in the bucket map, so both semantics route to the default base`,
        );
      let probe: { method: string; path: string } | undefined;
      for (const b of oracle.knownBlobs()) {
        if (await oracle.holds(regionalBase, b.digest)) {
          probe = { method: 'GET', path: `/v2/${b.repository}/blobs/${b.digest}` };
          break;
        }
      }
      if (!probe) throw new NotApplicable(`no known blob is in ${regionalBase}`);
      const other = target.semantics === 'archeio' ? 'most-specific' : 'archeio';
      const declared = await oracle.expect(vantage, probe);
      const alternative = await oracle.expect(vantage, probe, other);
      await probeFrom(ctx, oracle, route, probe, 'shadowed-prefix', {
        expected: declared,
        details: {
          semantics: target.semantics,
          [`under ${other}`]: alternative.location ?? alternative.status,
          shadowed: true,
        },
      });
      if (declared.location === alternative.location)
        ctx.log(`both semantics route ${probe.path} alike from ${vantage.name}; the check is weak`);
    },
  };
}

export function routingChecks(target: TargetDescription, options: RoutingSuiteOptions = {}): Check[] {
  const kinds = options.kinds ?? REQUEST_KINDS;
  const checks: Check[] = [];
  for (const vantage of target.vantages) {
    for (const kind of kinds) checks.push(matrixCheck(target, vantage, kind));
    checks.push(antiSpoofingCheck(target, vantage));
  }
  // Shadowed prefixes: the target's own shadowed vantages, plus samples from the publications posed as in xff mode.
  for (const v of target.vantages.filter((x) => x.tags?.includes('shadowed-by-global')))
    checks.push(shadowedCheck(target, v, true));
  const perFamily = options.shadowedSamplesPerFamily ?? 1;
  const taken = new Set(target.vantages.filter((x) => x.tags?.includes('shadowed-by-global')).map((x) => x.region));
  for (const family of [4, 6] as const) {
    const samples = findShadowedPrefixes()
      .filter((s) => s.family === family && target.bucketMap.regions[s.region] && !taken.has(s.region))
      .slice(0, perFamily);
    for (const s of samples) {
      taken.add(s.region);
      const v: Vantage = {
        name: `shadowed-v${family}-${s.region}`,
        ip: s.sample,
        cloud: 'AWS',
        region: s.region,
        url: null,
        tags: ['shadowed-by-global', 'synthesized', `inside ${s.shadowedBy}`],
      };
      checks.push(shadowedCheck(target, v, target.ipMode === 'xff'));
    }
  }
  return checks;
}
