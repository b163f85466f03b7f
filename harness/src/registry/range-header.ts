/**
 * Server side of Range for blob GET/HEAD (distribution-spec "Pulling blobs", RFC 9110 §14.2). One range is served as a
 * 206; what cannot be satisfied is a 416 with `Content-Range: bytes *\/size` (never 400;
 * docs/reference/oci-distribution.md#edge-cases E8). A header this server does not understand (another unit, bad syntax,
 * several ranges) is ignored and the whole blob is sent with 200, which RFC 9110 §14.2 allows.
 */
export type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return { kind: 'full' };
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    // suffix range: the last N bytes (RFC 9110 §14.1.2); N = 0 selects nothing
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return { kind: 'unsatisfiable' }; // "500-0": invalid, 416 as G2 R11 expects
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { kind: 'partial', start, end };
}
