/**
 * gzip (RFC 1952) whose deflate stream (RFC 1951 §3.2.4) uses only stored blocks. The output depends on nothing but
 * the input bytes: no zlib version or level can change a fixture digest. Layers stay valid `tar+gzip` for every
 * client (the compression ratio is irrelevant for fixtures).
 */
import { crc32 } from 'node:zlib';

const MAX_STORED = 0xffff;

export function storedGzip(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_STORED));
  const out = Buffer.alloc(10 + blocks * 5 + data.length + 8);
  // header: magic, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 (unknown)
  out.set([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff], 0);
  let o = 10;
  for (let i = 0; i < blocks; i++) {
    const chunk = data.subarray(i * MAX_STORED, Math.min(data.length, (i + 1) * MAX_STORED));
    out[o] = i === blocks - 1 ? 0x01 : 0x00; // BFINAL bit, BTYPE=00 (stored), then byte-aligned
    out.writeUInt16LE(chunk.length, o + 1);
    out.writeUInt16LE(~chunk.length & 0xffff, o + 3);
    chunk.copy(out, o + 5);
    o += 5 + chunk.length;
  }
  out.writeUInt32LE(crc32(data) >>> 0, o);
  out.writeUInt32LE(data.length % 2 ** 32, o + 4);
  return out;
}
