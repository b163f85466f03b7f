// The handler remembers client facts by X-Forwarded-For value (for one classifier). Its twin computes them for every
// request from the client-IP rule and the classifier in force: the decisions must carry the same facts for any
// sequence of headers, peers, rules and classifier swaps, and the socket address is never read when the header
// decides.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../blobs/index.js';
import { clientIp, formatIp, type ClientIpRule, type Ip } from '../net/index.js';
import type { Classification } from '../ranges/index.js';
import {
  BucketRouter,
  UNKNOWN_CLIENT,
  buildRoutingTable,
  createRouter,
  parseBucketMap,
  type ClientFacts,
} from '../routing/index.js';
import { createReplyRenderer } from './reply.js';
import {
  createRequestHandler,
  decisionLocation,
  type Classify,
  type Decision,
  type HttpRequest,
} from './request-handler.js';

const table = buildRoutingTable({
  upstreamEndpoint: 'https://up.example',
  upstreamPath: '',
  signatureEndpoint: null,
  infoUrl: 'https://info.example/',
  privacyUrl: 'https://privacy.example/',
  preserveQuery: true,
  buckets: new BucketRouter(
    parseBucketMap(
      '{"default":"https://cdn.example","regions":{"r1":"https://r1.example","r2":"https://r2.example"}}',
      'test',
    ),
  ),
});
const HIT: ProbeResult = { verdict: 'hit', outcome: 'cached-found', status: null, headMs: null, coalesced: false };
const BLOB = `/v2/pause/blobs/sha256:${'a'.repeat(64)}`;

/** A classifier generation: the same address may belong to another region after a swap. */
function classifier(generation: number): Classify {
  return (ip: Ip): Classification | null => {
    const text = formatIp(ip);
    const last = Number(/(\d+)$/.exec(text)?.[1] ?? '0');
    if (last % 3 === 0) return null;
    return { cloud: 'AWS', region: `r${((last + generation) % 2) + 1}`, prefix: `${text}/32` };
  };
}

function facts(
  rule: ClientIpRule,
  xff: string | undefined,
  peer: string | undefined,
  classify: Classify,
): { client: ClientFacts; source: 'xff' | 'socket' } {
  const ip = clientIp(rule, xff, { remoteAddress: peer }, { unmapV4: true });
  if (ip.ip === null || ip.address === null)
    return {
      client: ip.problem === undefined ? UNKNOWN_CLIENT : { ...UNKNOWN_CLIENT, problem: ip.problem },
      source: ip.source,
    };
  const c = classify(ip.address);
  return {
    client:
      c === null
        ? { ip: ip.ip, cloud: null, region: null, prefix: null }
        : { ip: ip.ip, cloud: c.cloud, region: c.region, prefix: c.prefix },
    source: ip.source,
  };
}

function handlerWith(rule: ClientIpRule, classify: () => Classify) {
  const decisions: Decision[] = [];
  const handle = createRequestHandler({
    router: createRouter(table),
    classify,
    clientIpRule: rule,
    unmapV4: true,
    probe: { peek: () => HIT, check: () => Promise.resolve(HIT) },
    renderer: createReplyRenderer('default'),
    onDecision: (d) => void decisions.push(d),
  });
  return { handle, decisions };
}

const xffValue = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    ' ',
    ',',
    'not-an-ip, 130.211.0.1',
    '35.180.1.1',
    '::ffff:10.0.0.4, 130.211.0.1',
    '2001:db8::1, 130.211.0.1',
    '1.2.3.4,5.6.7.8, 9.9.9.9',
  ),
  fc.tuple(fc.nat(9), fc.nat(2)).map(([a, b]) => `10.0.0.${a}, 130.211.0.${b}`),
);
const rule = fc.constantFrom<ClientIpRule>(
  { kind: 'gclb' },
  { kind: 'socket' },
  { kind: 'xff-hops', hops: 0 },
  { kind: 'xff-hops', hops: 2 },
);

describe('request handler: client facts remembered by X-Forwarded-For', () => {
  it('gives every decision the facts its twin computes, across repeats, peers and classifier swaps', () => {
    fc.assert(
      fc.property(
        rule,
        fc.array(fc.tuple(xffValue, fc.constantFrom('10.9.9.1', '10.9.9.2', undefined), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        (r, requests) => {
          let generation = 0;
          let current = classifier(generation);
          const { handle, decisions } = handlerWith(r, () => current);
          for (const [xff, peer, swap] of requests) {
            if (swap) current = classifier(++generation);
            handle({ method: 'GET', target: BLOB, xff, remoteAddress: peer });
            const d = decisions.at(-1)!;
            const want = facts(r, xff, peer, current);
            expect(d.client).toEqual(want.client);
            expect(d.ipSource).toBe(want.source);
            // the plan follows the facts: the bucket of the region the classifier in force says
            expect(decisionLocation(d)).toBe(
              want.client.region === null
                ? `https://cdn.example/containers/images/sha256:${'a'.repeat(64)}`
                : `https://${want.client.region}.example/containers/images/sha256:${'a'.repeat(64)}`,
            );
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reuses one frozen facts object for a repeated header, and never reads the socket for it', () => {
    const classify = classifier(0);
    const { handle, decisions } = handlerWith({ kind: 'gclb' }, () => classify);
    let reads = 0;
    const req = (xff: string): HttpRequest => ({
      method: 'GET',
      target: BLOB,
      xff,
      get remoteAddress() {
        reads++;
        return '10.9.9.9';
      },
    });
    handle(req('10.0.0.1, 130.211.0.1'));
    handle(req('10.0.0.1, 130.211.0.1'));
    expect(decisions[1]!.client).toBe(decisions[0]!.client);
    expect(Object.isFrozen(decisions[0]!.client)).toBe(true);
    expect(reads).toBe(0);
  });

  it('forgets what it remembered when the classifier is swapped', () => {
    let current = classifier(0);
    const { handle, decisions } = handlerWith({ kind: 'gclb' }, () => current);
    const req: HttpRequest = { method: 'GET', target: BLOB, xff: '10.0.0.1, 130.211.0.1', remoteAddress: undefined };
    handle(req);
    current = classifier(1);
    handle(req);
    expect(decisions.map((d) => d.client!.region)).toEqual(['r2', 'r1']);
  });
});
