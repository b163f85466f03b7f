/**
 * A hop trace as text, the shape of `crane pull --verbose` that registry.k8s.io's issue template asks users for
 * (https://github.com/kubernetes/registry.k8s.io/blob/main/docs/debugging.md): every hop, status and host.
 */
import type { Hop } from '../results/check.js';

const SHOWN_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'docker-content-digest',
  'cache-control',
  'retry-after',
  'server',
];

export function formatHop(hop: Hop, index: number): string {
  const status = hop.status === 0 ? 'no response' : String(hop.status);
  const lines = [
    `#${index + 1} ${hop.method} ${hop.url} → ${status} (${hop.durationMs.toFixed(1)} ms at +${hop.startMs.toFixed(1)} ms)`,
  ];
  if (hop.location !== undefined) lines.push(`     Location: ${hop.location}`);
  const sent = (hop as Hop & { requestHeaders?: Record<string, string> }).requestHeaders?.['x-forwarded-for'];
  if (sent !== undefined) lines.push(`     sent X-Forwarded-For: ${sent}`);
  for (const h of SHOWN_HEADERS) if (hop.headers[h] !== undefined) lines.push(`     ${h}: ${hop.headers[h]}`);
  return lines.join('\n');
}

export function formatTrace(hops: readonly Hop[]): string {
  return hops.length === 0 ? '(no HTTP exchange recorded)' : hops.map(formatHop).join('\n');
}
