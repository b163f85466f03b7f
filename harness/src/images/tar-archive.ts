/**
 * A minimal deterministic ustar writer (POSIX.1-1988 ustar): fixed mtime, uid/gid 0,
 * empty user/group names, entries in the order given. Enough for image layers; no long names (≤ 100 bytes), no
 * files of 8 GiB or more.
 */
export const TAR_BLOCK = 512;
/** 2024-01-01T00:00:00Z: every entry's mtime, so layers hash the same on every run */
export const FIXED_MTIME = 1_704_067_200;

export interface TarEntry {
  name: string;
  type: 'file' | 'dir';
  /** file contents (ignored for directories) */
  data?: Buffer;
  mode?: number;
}

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`tar field too long: ${value}`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits, zero-padded, NUL-terminated
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new RangeError(`tar numeric field overflow: ${value}`);
  writeString(buf, offset, length, `${digits}\0`);
}

/** The 512-byte header of one entry. */
export function tarHeader(entry: { name: string; type: 'file' | 'dir'; size: number; mode?: number }): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.type === 'dir' ? 0 : entry.size);
  writeOctal(h, 136, 12, FIXED_MTIME);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = entry.type === 'dir' ? 0x35 : 0x30; // '5' directory, '0' regular file
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Zero bytes that pad an entry of `size` bytes to the block boundary. */
export function tarPadding(size: number): Buffer {
  const rem = size % TAR_BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : TAR_BLOCK - rem);
}

/** The end-of-archive marker: two zero blocks. */
export function tarTrailer(): Buffer {
  return Buffer.alloc(2 * TAR_BLOCK);
}

export function buildTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(
      tarHeader({ name: e.name, type: e.type, size: data.length, ...(e.mode !== undefined ? { mode: e.mode } : {}) }),
      data,
      tarPadding(data.length),
    );
  }
  parts.push(tarTrailer());
  return Buffer.concat(parts);
}

/** Size of a single-file archive whose file has `size` bytes (header + data + padding + trailer). */
export function singleFileTarSize(size: number): number {
  return TAR_BLOCK + size + tarPadding(size).length + 2 * TAR_BLOCK;
}
