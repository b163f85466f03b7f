import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientIpRuleError,
  MAX_XFF_HOPS,
  clientIp as clientIpWithAddress,
  formatClientIpRule,
  parseClientIpRule,
} from './client-ip.js';
import type { ClientIpRule } from './client-ip.js';
import { parseIp } from './ip.js';

/**
 * clientIp with the socket address given as text, checking that `address` is exactly the parsed `ip` (null with it),
 * then leaving it out of the comparisons
 */
function clientIp(
  rule: ClientIpRule,
  xff: string | undefined,
  remoteAddress: string | undefined,
  opts: { unmapV4: boolean },
): Omit<ReturnType<typeof clientIpWithAddress>, 'address'> {
  const { address, ...rest } = clientIpWithAddress(rule, xff, { remoteAddress }, opts);
  expect(address).toEqual(rest.ip === null ? null : parseIp(rest.ip));
  return rest;
}

const GCLB: ClientIpRule = { kind: 'gclb' };

describe('clientIp reads the socket address only when the rule uses it', () => {
  it('asks the peer for it without X-Forwarded-For or under the socket rule, and never when an XFF entry decides', () => {
    let reads = 0;
    const peer = {
      get remoteAddress() {
        reads++;
        return '203.0.113.9';
      },
    };
    expect(clientIpWithAddress(GCLB, '35.180.1.1, 130.211.0.1', peer, { unmapV4: true }).ip).toBe('35.180.1.1');
    expect(clientIpWithAddress(GCLB, 'only-one', peer, { unmapV4: true }).ip).toBeNull();
    expect(reads).toBe(0);
    expect(clientIpWithAddress(GCLB, undefined, peer, { unmapV4: true }).ip).toBe('203.0.113.9');
    expect(clientIpWithAddress({ kind: 'socket' }, '35.180.1.1, 130.211.0.1', peer, { unmapV4: true }).ip).toBe(
      '203.0.113.9',
    );
    expect(reads).toBe(2);
  });
});
const keep = { unmapV4: false };
const unmap = { unmapV4: true };

describe('parseClientIpRule', () => {
  it.each([
    ['gclb', { kind: 'gclb' }],
    ['', { kind: 'gclb' }],
    ['  gclb ', { kind: 'gclb' }],
    ['socket', { kind: 'socket' }],
    ['xff-hops:0', { kind: 'xff-hops', hops: 0 }],
    ['xff-hops:1', { kind: 'xff-hops', hops: 1 }],
    [`xff-hops:${MAX_XFF_HOPS}`, { kind: 'xff-hops', hops: MAX_XFF_HOPS }],
  ])('%j', (text, rule) => {
    expect(parseClientIpRule(text)).toEqual(rule);
    expect(parseClientIpRule(formatClientIpRule(rule as ClientIpRule))).toEqual(rule);
  });

  it.each([
    ['GCLB', /expected "gclb"/],
    ['xff', /expected "gclb"/],
    ['xff-hops', /expected "gclb"/],
    ['xff-hops:', /hop count .* got ""/],
    ['xff-hops:-1', /hop count .* got "-1"/],
    ['xff-hops:01', /hop count .* got "01"/],
    ['xff-hops:1.5', /hop count .* got "1.5"/],
    [`xff-hops:${MAX_XFF_HOPS + 1}`, /from 0 to 64/],
  ])('rejects %j', (text, message) => {
    let caught: unknown;
    try {
      parseClientIpRule(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClientIpRuleError);
    expect((caught as ClientIpRuleError).code).toBe('CLIENT_IP_RULE_INVALID');
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain(JSON.stringify(text));
  });
});

describe('clientIp: gclb (docs/reference/archeio.md#client-ip vectors, kubernetes/registry.k8s.io:pkg/net/clientip/clientip_test.go@093d55a)', () => {
  it.each([
    ['8.8.8.8,8.8.8.9', '8.8.8.8'],
    ['127.0.0.1, 8.8.8.8, 8.8.8.9', '8.8.8.8'],
    ['asd;lfkjaasdf;lk,,8.8.8.8,8.8.8.9', '8.8.8.8'],
    ['2001:db8:1234:5678:abcd:1234:5678:abcd, 2001:db8:0:abcd::', '2001:db8:1234:5678:abcd:1234:5678:abcd'],
  ])('%j → %s', (xff, ip) => {
    expect(clientIp(GCLB, xff, '10.0.0.1', keep)).toEqual({ ip, source: 'xff' });
  });

  it.each([
    ['8.8.8.8', /has 1 entry; rule gclb needs at least 2/],
    ['2001:db8:1234:5678:abcd:1234:5678:abcd', /has 1 entry/],
    [',, ,', /has 0 entries/],
  ])('%j → unknown client with a problem (archeio answers 400)', (xff, problem) => {
    const r = clientIp(GCLB, xff, '10.0.0.1', keep);
    expect(r.ip).toBeNull();
    expect(r.source).toBe('xff');
    expect(r.problem).toMatch(problem);
  });

  it('uses the socket address when the header is absent or empty', () => {
    expect(clientIp(GCLB, undefined, '203.0.113.7', keep)).toEqual({ ip: '203.0.113.7', source: 'socket' });
    expect(clientIp(GCLB, '', '2001:db8::7', keep)).toEqual({ ip: '2001:db8::7', source: 'socket' });
  });

  it('reports a missing or malformed socket address instead of throwing (docs/reference/archeio.md#test-vectors vector 17: 400)', () => {
    expect(clientIp(GCLB, undefined, undefined, keep)).toEqual({
      ip: null,
      source: 'socket',
      problem: 'the connection has no remote address',
    });
    expect(clientIp(GCLB, undefined, '', keep).ip).toBeNull();
    const r = clientIp(GCLB, undefined, '10.0.0.1:8080', keep);
    expect(r.ip).toBeNull();
    expect(r.problem).toBe('socket address "10.0.0.1:8080" is not an IP address');
  });

  it('reports a garbage client entry, quoting it cut short', () => {
    const r = clientIp(GCLB, `${'x'.repeat(100)},130.211.0.1`, '10.0.0.1', keep);
    expect(r.ip).toBeNull();
    expect(r.problem).toMatch(/^X-Forwarded-For entry \(2nd from the right\) "x{64}…" is not an IP address$/);
    const long = clientIp(GCLB, 'y'.repeat(100), '10.0.0.1', keep);
    expect(long.problem).toContain('…');
  });

  it('splits on commas and spaces only, like Go strings.FieldsFunc (a tab stays in the token)', () => {
    expect(clientIp(GCLB, '1.1.1.1 2.2.2.2', undefined, keep).ip).toBe('1.1.1.1');
    expect(clientIp(GCLB, '1.1.1.1,\t2.2.2.2', undefined, keep).ip).toBe('1.1.1.1');
    expect(clientIp(GCLB, '\t1.1.1.1,2.2.2.2', undefined, keep).problem).toMatch(/"\\t1.1.1.1" is not an IP address/);
  });

  it('returns canonical text and strips zones', () => {
    expect(clientIp(GCLB, '2001:DB8:0:0::1, 1.1.1.1', undefined, keep).ip).toBe('2001:db8::1');
    expect(clientIp(GCLB, 'fe80::1%eth0,1.1.1.1', undefined, keep).ip).toBe('fe80::1');
  });

  it('unmaps IPv4-mapped IPv6 only when asked (archeio does not:docs/reference/archeio.md#quirks Q11)', () => {
    expect(clientIp(GCLB, '::ffff:35.180.1.1, 130.211.0.1', undefined, keep).ip).toBe('::ffff:35.180.1.1');
    expect(clientIp(GCLB, '::ffff:35.180.1.1, 130.211.0.1', undefined, unmap).ip).toBe('35.180.1.1');
    expect(clientIp(GCLB, undefined, '::ffff:127.0.0.1', unmap)).toEqual({ ip: '127.0.0.1', source: 'socket' });
    expect(clientIp(GCLB, undefined, '::ffff:127.0.0.1', keep).ip).toBe('::ffff:127.0.0.1');
  });
});

describe('clientIp: socket and xff-hops', () => {
  it('socket ignores X-Forwarded-For', () => {
    expect(clientIp({ kind: 'socket' }, '8.8.8.8, 9.9.9.9', '192.0.2.1', keep)).toEqual({
      ip: '192.0.2.1',
      source: 'socket',
    });
  });

  it('xff-hops:N takes the (N+1)-th entry from the right', () => {
    const xff = '1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4';
    expect(clientIp({ kind: 'xff-hops', hops: 0 }, xff, undefined, keep).ip).toBe('4.4.4.4');
    expect(clientIp({ kind: 'xff-hops', hops: 1 }, xff, undefined, keep).ip).toBe('3.3.3.3');
    expect(clientIp({ kind: 'xff-hops', hops: 3 }, xff, undefined, keep).ip).toBe('1.1.1.1');
    const short = clientIp({ kind: 'xff-hops', hops: 4 }, xff, undefined, keep);
    expect(short).toEqual({
      ip: null,
      source: 'xff',
      problem: `X-Forwarded-For "${xff}" has 4 entries; rule xff-hops:4 needs at least 5`,
    });
    expect(clientIp({ kind: 'xff-hops', hops: 10 }, xff, undefined, keep).problem).toContain('11');
    expect(clientIp({ kind: 'xff-hops', hops: 2 }, xff, undefined, keep).ip).toBe('2.2.2.2');
    expect(clientIp({ kind: 'xff-hops', hops: 0 }, undefined, '192.0.2.9', keep)).toEqual({
      ip: '192.0.2.9',
      source: 'socket',
    });
  });

  it('spoofing: entries a client prepends never win under gclb or xff-hops', () => {
    // The client sends "X-Forwarded-For: 35.180.1.1" hoping to look like AWS; the LB appends "<client>,<lb>".
    expect(clientIp(GCLB, '35.180.1.1, 198.51.100.23, 130.211.0.1', undefined, keep).ip).toBe('198.51.100.23');
    expect(clientIp({ kind: 'xff-hops', hops: 0 }, '35.180.1.1, 198.51.100.23', undefined, keep).ip).toBe(
      '198.51.100.23',
    );
  });

  it('xff-hops:1 equals gclb for any header and socket address, and nothing throws', () => {
    const token = fc.oneof(
      fc.constantFrom('8.8.8.8', '::1', '::ffff:1.2.3.4', '2001:db8::1', 'fe80::1%eth0', '01.2.3.4', '', ' '),
      fc.string({ maxLength: 8 }),
    );
    const header = fc.oneof(
      fc.constant(undefined),
      fc.array(token, { maxLength: 5 }).map((t) => t.join(',')),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(header, fc.option(token, { nil: undefined }), fc.boolean(), (xff, remote, u) => {
        const a = clientIp(GCLB, xff, remote, { unmapV4: u });
        const b = clientIp({ kind: 'xff-hops', hops: 1 }, xff, remote, { unmapV4: u });
        expect({ ...a, problem: a.problem?.replace('gclb', 'R') }).toEqual({
          ...b,
          problem: b.problem?.replace('xff-hops:1', 'R'),
        });
        expect(a.ip === null).toBe(a.problem !== undefined);
      }),
      { numRuns: 2000 },
    );
  });
});
