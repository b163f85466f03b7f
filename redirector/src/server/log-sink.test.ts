import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogSink, isLogSink } from './log-sink.js';

const tmp = mkdtempSync(join(tmpdir(), 'log-sink-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** a fake write(2) that records what was written, in slices of at most `chunk` bytes */
function recorder(chunk = Infinity) {
  const out: Buffer[] = [];
  return {
    out,
    text: () => Buffer.concat(out).toString('utf8'),
    writeSync: (_fd: number, buf: Buffer, off: number, len: number) => {
      const n = Math.min(len, chunk);
      out.push(Buffer.from(buf.subarray(off, off + n)));
      return n;
    },
  };
}

// the sink's own exit hook (the last one registered): emitting 'exit' would run the test worker's hooks too
const ownExitHook = () => process.listeners('exit').at(-1) as () => void;

describe('LogSink', () => {
  it('batches lines and writes them whole, in order, when the buffer would overflow or on flush', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 72, flushIntervalMs: 0, writeSync: r.writeSync });
    sink.write('a'.repeat(10) + '\n');
    sink.write('b'.repeat(10) + '\n');
    expect(r.out).toHaveLength(0);
    sink.write('c'.repeat(20) + '\n');
    expect(r.text()).toBe('a'.repeat(10) + '\n' + 'b'.repeat(10) + '\n');
    let called = false;
    sink.flush(() => (called = true));
    expect(called).toBe(true);
    expect(r.text()).toBe('a'.repeat(10) + '\nbbbbbbbbbb\n' + 'c'.repeat(20) + '\n');
    sink.flush();
    sink.close();
  });

  it('copies ASCII lines byte for byte, in order with UTF-8 ones, and a long ASCII line on its own', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 16, flushIntervalMs: 0, writeSync: r.writeSync });
    sink.writeAscii('a1\n');
    sink.write('é\n');
    sink.writeAscii('b'.repeat(10) + '\n');
    sink.writeAscii('c'.repeat(40) + '\n');
    sink.writeAscii('d\n');
    sink.close();
    expect(r.text()).toBe('a1\né\n' + 'b'.repeat(10) + '\n' + 'c'.repeat(40) + '\nd\n');
    // 3 + 3 bytes fit; the 11-byte line does not fit after them; the 41-byte one goes alone
    expect(r.out.map((b) => b.length)).toEqual([6, 11, 41, 2]);
  });

  it('counts an ASCII line at one byte per character: two 8-byte lines fill a 16-byte buffer together', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 16, flushIntervalMs: 0, writeSync: r.writeSync });
    sink.writeAscii('x'.repeat(7) + '\n');
    sink.writeAscii('y'.repeat(7) + '\n');
    sink.writeAscii('z\n');
    sink.close();
    expect(r.out.map((b) => b.length)).toEqual([16, 2]);
    expect(r.text()).toBe('xxxxxxx\nyyyyyyy\nz\n');
  });

  it('takes a line written straight into its batch: reserve drains what might not fit, commit adds it in order', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 16, flushIntervalMs: 0, writeSync: r.writeSync });
    const put = (text: string) => {
      const at = sink.reserve(text.length);
      expect(at).toBeGreaterThanOrEqual(0);
      sink.commit(at + sink.batch.write(text, at, 'latin1'));
    };
    sink.writeAscii('a1\n');
    put('b'.repeat(9) + '\n');
    expect(r.out).toHaveLength(0);
    // 13 bytes pending: a 4-byte line might not fit, so reserving it writes the 13 out first
    put('ccc\n');
    expect(r.text()).toBe('a1\n' + 'b'.repeat(9) + '\n');
    sink.writeAscii('d\n');
    sink.close();
    expect(r.text()).toBe('a1\n' + 'b'.repeat(9) + '\nccc\nd\n');
    expect(r.out.map((b) => b.length)).toEqual([13, 6]);
  });

  it('refuses room it does not have, and a commit outside the room it gave', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 16, flushIntervalMs: 0, writeSync: r.writeSync });
    expect(sink.reserve(17)).toBe(-1);
    sink.writeAscii('abc\n');
    const at = sink.reserve(8);
    expect(at).toBe(4);
    expect(() => sink.commit(3)).toThrow(RangeError);
    expect(() => sink.commit(17)).toThrow(RangeError);
    sink.commit(at);
    sink.close();
    expect(r.text()).toBe('abc\n');
  });

  it('knows its own sinks from look-alikes', () => {
    const sink = createLogSink({ flushIntervalMs: 0, writeSync: (_f, _b, _o, l) => l });
    expect(isLogSink(sink)).toBe(true);
    expect(isLogSink({ ...sink })).toBe(false);
    sink.close();
  });

  it('encodes UTF-8, and writes a line larger than the buffer on its own', () => {
    const r = recorder();
    const sink = createLogSink({ maxPending: 16, flushIntervalMs: 0, writeSync: r.writeSync });
    sink.write('é\n');
    sink.write('x'.repeat(40) + '\n');
    sink.close();
    expect(r.text()).toBe('é\n' + 'x'.repeat(40) + '\n');
  });

  it('finishes partial writes and retries EAGAIN', () => {
    const r = recorder(3);
    let eagain = 2;
    const sleeps: number[] = [];
    const sink = createLogSink({
      flushIntervalMs: 0,
      sleep: (ms) => sleeps.push(ms),
      writeSync: (fd, buf, off, len) => {
        if (eagain-- > 0) throw Object.assign(new Error('try again'), { code: 'EAGAIN' });
        return r.writeSync(fd, buf, off, len);
      },
    });
    sink.write('hello world\n');
    sink.flush();
    expect(r.text()).toBe('hello world\n');
    expect(sleeps).toEqual([1, 1]);
    sink.close();
  });

  it('reports other write errors to the flush callback, or throws without one', () => {
    const sink = createLogSink({
      flushIntervalMs: 0,
      writeSync: () => {
        throw Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
      },
    });
    sink.write('x\n');
    let got: Error | undefined;
    sink.flush((err) => (got = err));
    expect(got?.message).toBe('broken pipe');
    sink.write('y\n');
    expect(() => sink.flush()).toThrow('broken pipe');
    sink.close();
  });

  it('flushes on its timer and at exit, to a real file descriptor', async () => {
    const file = join(tmp, 'out.log');
    const fd = openSync(file, 'w');
    const sink = createLogSink({ fd, flushIntervalMs: 5 });
    sink.write('{"msg":"one"}\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(file, 'utf8')).toBe('{"msg":"one"}\n');
    sink.write('{"msg":"two"}\n');
    ownExitHook()();
    expect(readFileSync(file, 'utf8')).toBe('{"msg":"one"}\n{"msg":"two"}\n');
    sink.close();
    closeSync(fd);
  });

  it('an exit after the reader is gone is survived', () => {
    const sink = createLogSink({
      flushIntervalMs: 0,
      writeSync: () => {
        throw Object.assign(new Error('gone'), { code: 'EPIPE' });
      },
    });
    sink.write('x\n');
    expect(() => ownExitHook()()).not.toThrow();
    sink.close();
  });
});
