/**
 * Where the log lines go: a batching writer on a file descriptor (stdout), used as pino's destination.
 *
 * Why not sonic-boom (pino.destination): measured on this machine with 450-byte decision lines, its asynchronous
 * mode costs 2.7-3.9 µs of CPU per line (string bookkeeping per write), more than all the routing work; its
 * synchronous mode 1.3 µs (one write(2) per line). Here each line is encoded into one reusable buffer as it arrives
 * (one native call, while the just-built line is still in the CPU's cache, and nothing of it outlives the request
 * to be copied by the next scavenge), and the buffer goes out with one `writeSync` when the next line might not fit.
 * Lines known to be ASCII (`writeAscii`) are copied one byte per character (latin1) with no UTF-8 encoding; anything
 * else (pino's own lines) is encoded as UTF-8. A writer that keeps its pieces as bytes already (the per-decision
 * lines: decision-log.ts) copies them straight into the batch (`reserve`, then `commit`), so no string of the whole
 * line is ever built.
 * (Keeping the pending lines as one V8 rope and encoding it per batch costs more: flattening and encoding the rope
 * outweighs the per-line copy.)
 *
 * Guarantees: lines are written whole and in order; nothing is dropped. A write blocks while the reader is slow
 * (back-pressure, as pino's synchronous default does), retrying EAGAIN on a non-blocking pipe; pending lines are
 * written at least every `flushIntervalMs`, on `flush()`, and when the process exits.
 */
import { writeSync as fsWriteSync } from 'node:fs';

export interface LogSink {
  write(line: string): boolean;
  /** `line` has only ASCII characters (U+0000 to U+007F): the caller guarantees it, nothing checks */
  writeAscii(line: string): void;
  /**
   * Room for a line of at most `bytes` bytes, written straight into `batch` from the returned offset: pending lines
   * are written out first when it might not fit. -1 when it could never fit (write it with `writeAscii`). The line
   * counts once `commit(end)` says where it ends; nothing else may be written in between.
   */
  reserve(bytes: number): number;
  commit(end: number): void;
  /** the batch buffer `reserve` hands out offsets in */
  readonly batch: Buffer;
  /** writes everything pending now; `cb` (pino's flush signature) runs after */
  flush(cb?: (err?: Error) => void): void;
  /** flushes and stops the timer and the exit hook */
  close(): void;
}

export interface LogSinkOptions {
  /** default 1 (stdout) */
  fd?: number;
  /** the buffer size: pending lines go out when the next one might not fit in it as UTF-8; default 192 KiB */
  maxPending?: number;
  /** flush pending lines at least this often; default 250 ms; 0: only by size and on demand */
  flushIntervalMs?: number;
  /** the write(2) to use (tests inject failures); returns bytes written */
  writeSync?: (fd: number, buf: Buffer, offset: number, length: number) => number;
  /** how to wait before retrying EAGAIN; default a 1 ms synchronous sleep */
  sleep?: (ms: number) => void;
}

/** The sinks createLogSink made: what a writer checks before it uses `reserve` and `batch` (no look-alikes). */
const sinks = new WeakSet<object>();

export function isLogSink(destination: object): destination is LogSink {
  return sinks.has(destination);
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const syncSleep = (ms: number): void => void Atomics.wait(sleepCell, 0, 0, ms);

export function createLogSink(opts: LogSinkOptions = {}): LogSink {
  const fd = opts.fd ?? 1;
  const write = opts.writeSync ?? ((f, b, o, l) => fsWriteSync(f, b, o, l));
  const sleep = opts.sleep ?? syncSleep;
  const buf = Buffer.allocUnsafe(opts.maxPending ?? 192 * 1024);
  // bytes of whole lines waiting in `buf`
  let used = 0;

  const writeAll = (data: Buffer, length: number): void => {
    let off = 0;
    while (off < length) {
      try {
        off += write(fd, data, off, length - off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        sleep(1);
      }
    }
  };
  const drain = (): void => {
    if (used === 0) return;
    const length = used;
    // reset first: if the write throws, the lines are not written twice by a later flush
    used = 0;
    writeAll(buf, length);
  };

  /** adds one line to the batch; `maxBytesPerUnit` bounds its encoded size so a line is never split */
  const append = (line: string, maxBytesPerUnit: number, encoding: 'utf8' | 'latin1'): void => {
    if (used + line.length * maxBytesPerUnit > buf.length) {
      drain();
      if (line.length * maxBytesPerUnit > buf.length) {
        const big = Buffer.from(line, encoding);
        writeAll(big, big.length);
        return;
      }
    }
    used += buf.write(line, used, encoding);
  };

  const timer = opts.flushIntervalMs === 0 ? null : setInterval(drain, opts.flushIntervalMs ?? 250);
  timer?.unref();
  const onExit = (): void => {
    try {
      drain();
    } catch {
      // the reader is gone: nothing left to save the lines to
    }
  };
  process.on('exit', onExit);

  const sink: LogSink = {
    batch: buf,
    reserve(bytes) {
      if (bytes > buf.length) return -1;
      if (used + bytes > buf.length) drain();
      return used;
    },
    commit(end) {
      if (end < used || end > buf.length)
        throw new RangeError(`log sink: commit(${end}) outside the reserved room (${used}-${buf.length})`);
      used = end;
    },
    write(line) {
      // a UTF-16 code unit never takes more than 3 bytes in UTF-8
      append(line, 3, 'utf8');
      return true;
    },
    writeAscii(line) {
      append(line, 1, 'latin1');
    },
    flush(cb) {
      try {
        drain();
      } catch (err) {
        if (cb) return cb(err as Error);
        throw err;
      }
      cb?.();
    },
    close() {
      if (timer !== null) clearInterval(timer);
      process.off('exit', onExit);
      drain();
    },
  };
  sinks.add(sink);
  return sink;
}
