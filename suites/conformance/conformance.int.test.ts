/**
 * Proving the conformance suite: the correct local stack passes the redirector's own rules, and an archeio-like
 * front in the same world fails exactly the quirks docs/reference/archeio.md#quirks lists: the query string is dropped
 * (Q1), path.Join lets `..` escape the upstream prefix (Q2), 405 has no Allow (Q5) and error bodies are plain text
 * (Q6). The front is a few lines of node:http written here from the anchors' description, not the project's
 * redirector.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runChecks,
  startStack,
  type RunReport,
  type StartedStack,
  type TargetDescription,
} from '../../harness/src/index.js';
import { conformanceChecks } from './conformance.suite.js';

const REDIRECTOR_RULES = [
  'conformance/v2-ping',
  'conformance/catalog-404',
  'conformance/methods-405',
  'conformance/error-body-redirector',
  'conformance/query-survives-redirect',
  'conformance/path-probes-stay-in-prefix',
  'conformance/dot-segments-rejected',
];

/** archeio's decision list (docs/reference/archeio.md#decision-list) without the blob branch: every /v2 path goes upstream. */
function archeioLikeFront(world: TargetDescription): http.Server {
  return http.createServer((req, res) => {
    const raw = (req.url ?? '/').split('?')[0]!;
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      path = raw;
    }
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Only GET and HEAD are allowed.\n');
    if (path.startsWith('/v2')) {
      if (path === '/v2/' || path === '/v2')
        return text(200, '', { 'docker-distribution-api-version': 'registry/2.0' });
      if (path === '/v2/_catalog') return text(404, '_catalog is not supported\n');
      const location = world.upstream + posix.join('/v2/', world.upstreamPath, path.slice('/v2'.length));
      try {
        res.writeHead(307, { location });
      } catch {
        return text(400, 'bad path\n'); // Go would escape what node refuses to put in a header (NUL, CR, LF)
      }
      return res.end();
    }
    if (path === '/') return (res.writeHead(307, { location: world.infoUrl }), res.end());
    if (path.startsWith('/privacy')) return (res.writeHead(307, { location: world.privacyUrl }), res.end());
    return text(404, '404 page not found\n');
  });
}

let stack: StartedStack;
let front: http.Server;
let good: RunReport;
let quirky: RunReport;

beforeAll(async () => {
  stack = await startStack({ bigLayerMiB: 1 });
  front = archeioLikeFront(stack.target);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const quirkyTarget: TargetDescription = {
    ...stack.target,
    name: 'archeio-like',
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    ipMode: 'xff',
    vantages: stack.target.vantages.map((v) => ({ ...v, url: null })),
  };
  const only = (t: TargetDescription) => conformanceChecks(t).filter((c) => REDIRECTOR_RULES.includes(c.id));
  good = await runChecks({
    target: stack.target,
    checks: only(stack.target),
    suites: ['conformance'],
    preflight: false,
  });
  quirky = await runChecks({
    target: quirkyTarget,
    checks: only(quirkyTarget),
    suites: ['conformance'],
    preflight: false,
  });
}, 300_000);

afterAll(async () => {
  await new Promise((resolve) => (front ? front.close(resolve) : resolve(undefined)));
  await stack?.stop();
}, 120_000);

describe('conformance suite: the redirector rules', () => {
  const status = (report: RunReport, id: string) => {
    const r = report.results.find((x) => x.id === id)!;
    return { status: r.status, failureClass: r.failureClass, message: r.message ?? '' };
  };

  it.each(REDIRECTOR_RULES)('%s passes against the local stack', (id) => {
    const r = status(good, id);
    expect(r.status, r.message).toBe('pass');
  });

  it.each(['conformance/v2-ping', 'conformance/catalog-404'])('%s passes against the archeio-like front too', (id) => {
    const r = status(quirky, id);
    expect(r.status, r.message).toBe('pass');
  });

  it.each([
    ['conformance/methods-405', /Allow/],
    ['conformance/error-body-redirector', /not JSON/],
    ['conformance/query-survives-redirect', /lost n=1/],
    ['conformance/path-probes-stay-in-prefix', /outside every allowed prefix/],
    ['conformance/dot-segments-rejected', /expected 400/],
  ])('%s fails against the archeio-like front with class conformance', (id, why) => {
    const r = status(quirky, id);
    expect(r.status, r.message).toBe('fail');
    expect(r.failureClass).toBe('conformance');
    expect(r.message).toMatch(why);
  });
});
