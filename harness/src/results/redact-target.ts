/**
 * The target as it may be written into a report: secrets removed (the OCI conformance suite's reports
 * likewise redact authorization, token and state values).
 * Values of secret-looking keys are replaced, and passwords in URL userinfo are masked wherever a URL appears.
 */
import type { TargetDescription } from '../target/target-description.js';

const SECRET_KEY =
  /(password|passwd|secret|token|authorization|credential|cookie|api[-_]?key|access[-_]?key|private[-_]?key)/i;
export const REDACTED = '<redacted>';

function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value)) return value;
  try {
    const u = new URL(value);
    if (u.password) u.password = REDACTED;
    else if (u.username) u.username = REDACTED;
    return u.toString();
  } catch {
    return value;
  }
}

export function redactValue(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && value !== undefined && value !== '') return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

export function redactTarget(target: TargetDescription): TargetDescription {
  return redactValue(target) as TargetDescription;
}
