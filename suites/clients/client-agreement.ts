/**
 * Whether real clients agree: which digest each client ended on for each image, and the images on which they differ.
 * Only what at least two clients resolved is compared; a client's failures are its own check's business.
 */

/**
 * Which digest each client ended on for each image, and the images on which they differ. Only what at least two
 * clients resolved is compared; a client's failures are its own check's business.
 */
export function clientDisagreements<Tool extends string>(
  byTool: ReadonlyMap<Tool, ReadonlyMap<string, string>>,
): { compared: number; differ: string[] } {
  const refs = new Set([...byTool.values()].flatMap((m) => [...m.keys()]));
  let compared = 0;
  const differ: string[] = [];
  for (const ref of refs) {
    const seen = [...byTool].flatMap(([tool, m]) => (m.has(ref) ? [[tool, m.get(ref)!] as const] : []));
    if (seen.length < 2) continue;
    compared += 1;
    if (new Set(seen.map(([, d]) => d)).size > 1) {
      differ.push(`${ref}: ${seen.map(([tool, d]) => `${tool} ${d}`).join(', ')}`);
    }
  }
  return { compared, differ };
}
