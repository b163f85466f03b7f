/**
 * Known issues: per-target failures that are tracked upstream ("a known failure is reported as known, not
 * hidden, and a new failure still turns the run red"). A target description lists them as
 * `knownIssues: [{ check: "<id glob>", link, reason }]`. Only a *fail* can become a known failure: an *error* means the
 * harness could not decide, and no known issue may paper over that.
 */
import type { TargetDescription } from '../target/target-description.js';
import { TargetDescriptionError } from '../target/target-description.js';

export interface KnownIssue {
  /** a glob over check ids: `*` matches any run of characters, `?` one character */
  check: string;
  /** the upstream issue, e.g. https://github.com/kubernetes/registry.k8s.io/issues/326 */
  link: string;
  reason: string;
}

/** Reads and validates `knownIssues` from a target (an extra field of the description). */
export function knownIssuesOf(target: TargetDescription, source = target.name): KnownIssue[] {
  const raw = target.knownIssues;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new TargetDescriptionError(`${source}: knownIssues must be an array`);
  return raw.map((k, i) => {
    const o = k as Record<string, unknown>;
    for (const field of ['check', 'link', 'reason'] as const) {
      if (typeof o?.[field] !== 'string' || o[field] === '')
        throw new TargetDescriptionError(`${source}: knownIssues[${i}].${field} must be a non-empty string`);
    }
    if (!/^https?:\/\//.test(o.link as string))
      throw new TargetDescriptionError(`${source}: knownIssues[${i}].link must be an http(s) URL`);
    return { check: o.check as string, link: o.link as string, reason: o.reason as string };
  });
}

export function globMatches(glob: string, id: string): boolean {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(id);
}

export function findKnownIssue(issues: readonly KnownIssue[], checkId: string): KnownIssue | undefined {
  return issues.find((k) => globMatches(k.check, checkId));
}
