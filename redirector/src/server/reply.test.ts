// The default renderer renders a shared (frozen) plan's redirect once and hands the same reply out again; a fresh
// plan gets a fresh reply. Either way the reply is the one the plan asks for.
import { describe, expect, it } from 'vitest';
import type { RedirectPlan } from '../routing/index.js';
import { createReplyRenderer } from './reply.js';

const plan = (location: string): RedirectPlan => ({ kind: 'redirect', reason: 'blob-bucket-hit', location });
const expected = (location: string) => ({
  status: 307,
  headers: ['Location', location, 'Cache-Control', 'private, no-store', 'Content-Length', '0'],
  body: '',
});

describe('reply renderer (default flavour)', () => {
  it("reuses the reply of a shared plan, renders fresh plans anew, and each reply is its plan's", () => {
    const r = createReplyRenderer('default');
    const shared = Object.freeze(plan('https://a.example/containers/images/x'));
    const first = r.redirect(shared, 'GET');
    expect(first).toEqual(expected(shared.location));
    expect(r.redirect(shared, 'HEAD')).toBe(first);
    const fresh = plan('https://b.example/y');
    const a = r.redirect(fresh, 'GET');
    expect(a).toEqual(expected(fresh.location));
    // a plan that is not frozen may change between calls: it is never answered from memory
    const changed = { ...fresh, location: 'https://c.example/z' };
    expect(r.redirect(changed, 'GET')).toEqual(expected('https://c.example/z'));
    expect(r.redirect(fresh, 'GET')).not.toBe(a);
  });
});
