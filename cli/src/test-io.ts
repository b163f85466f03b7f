import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from './main.js';

/** An in-memory CliIo for tests: captures stdout/stderr and feeds stdin from a string. */
export function captureIo(stdinText = '', env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  return { stdout, stderr, stdin: Readable.from([stdinText]), env, out: () => out, err: () => err };
}
