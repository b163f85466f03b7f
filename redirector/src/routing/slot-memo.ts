/**
 * A memo keyed by strings that arrive fresh with every request (request-targets, X-Forwarded-For values): a fixed
 * table of slots, each holding one key and its value, the slot chosen by a cheap hash of the key.
 *
 * Why not a Map (BoundedMemo): a string straight off the HTTP parser has no hash yet, so a Map lookup makes V8 hash
 * every character of it (an 87-character blob target: the largest single cost of the router's memo under load,
 * docs/performance.md#where-the-rest-of-the-cpu-goes). Here the slot comes from the key's length and a sample of its
 * characters: all of a short key, and for a longer one its last 24 (a blob target ends in its digest) plus 8 spread
 * over the rest. A hit is then confirmed by comparing the whole key with the one the slot holds, so a value is only
 * ever returned for the exact key it was stored under; two keys sharing a slot just take turns (each a recomputation,
 * never a wrong answer). The table's size is its bound: memory stays fixed whatever the keys, and nothing needs
 * evicting. slot-memo.test.ts checks it against a Map over random keys, colliding ones included.
 */
export class SlotMemo<V> {
  private readonly keys: (string | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;

  constructor(
    /** how many slots: a power of two */
    readonly slots: number,
    /** where a key goes (tests pass a colliding one) */
    private readonly hash: (key: string) => number = sampleHash,
  ) {
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`SlotMemo: slots must be a power of two, not ${slots}`);
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  get(key: string): V | undefined {
    const i = this.hash(key) & this.mask;
    return this.keys[i] === key ? this.values[i] : undefined;
  }

  set(key: string, value: V): void {
    const i = this.hash(key) & this.mask;
    this.keys[i] = key;
    this.values[i] = value;
  }

  clear(): void {
    this.keys.fill(undefined);
    this.values.fill(undefined);
  }
}

/** How many characters at the end of a key are all hashed, and how many are sampled before them. */
const TAIL = 24;
const SPREAD = 8;

/** FNV-1a over the key's length and a sample of its UTF-16 code units (all of them for a key of at most TAIL + SPREAD). */
export function sampleHash(key: string): number {
  const n = key.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  const tailStart = n <= TAIL + SPREAD ? 0 : n - TAIL;
  if (tailStart > 0) {
    const step = tailStart / SPREAD;
    for (let k = 0; k < SPREAD; k++) h = Math.imul(h ^ key.charCodeAt(Math.floor(k * step)), 0x01000193);
  }
  for (let i = tailStart; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  // fold the high bits in: the slot is taken from the low ones
  return (h ^ (h >>> 15)) >>> 0;
}
