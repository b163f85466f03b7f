/**
 * Range requests and Content-Range answers for blob GETs (distribution-spec "Pulling blobs": Range SHOULD be supported
 * per RFC 9110 §14; docs/reference/oci-distribution.md#edge-cases E8, G2 R7–R12).
 */
export type ByteRangeRequest =
  /** a raw `Range` header value sent as-is, e.g. `bytes=500-0` or `bytes=0-1,5-6` (probes) */
  | string
  /** `bytes=start-end` (end inclusive) or `bytes=start-` */
  | { start: number; end?: number }
  /** `bytes=-suffix`: the last `suffix` bytes */
  | { suffix: number };

export function rangeHeaderValue(range: ByteRangeRequest): string {
  if (typeof range === 'string') return range;
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/** The bytes of a blob of `size` a single range selects, or null when unsatisfiable (RFC 9110 §14.1.2). */
export function resolveRange(
  range: Exclude<ByteRangeRequest, string>,
  size: number,
): { start: number; end: number } | null {
  if ('suffix' in range) {
    if (range.suffix <= 0 || size === 0) return null;
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) return null;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (end < range.start) return null;
  return { start: range.start, end };
}

export type ContentRange =
  /** `bytes first-last/complete` (complete null for `*`) */
  | { kind: 'range'; start: number; end: number; size: number | null }
  /** `bytes *\/complete`, sent with 416 */
  | { kind: 'unsatisfied'; size: number };

/** Parses a Content-Range value (RFC 9110 §14.4); null when malformed. */
export function parseContentRange(value: string | undefined): ContentRange | null {
  if (value === undefined) return null;
  const v = value.trim();
  let m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(v);
  if (m !== null) {
    const start = Number(m[1]);
    const end = Number(m[2]);
    const size = m[3] === '*' ? null : Number(m[3]);
    if (end < start || (size !== null && end >= size)) return null;
    return { kind: 'range', start, end, size };
  }
  m = /^bytes \*\/(\d+)$/i.exec(v);
  if (m !== null) return { kind: 'unsatisfied', size: Number(m[1]) };
  return null;
}
