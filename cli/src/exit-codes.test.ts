/**
 * One exit-code rule for every command (cli/src/exit-codes.ts, docs/harness.md "Exit codes"), checked command by
 * command and error kind by error kind. Nothing here starts a stack or a server: each error is found first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { captureIo } from './test-io.js';
import { fromPackageRoot } from '../../harness/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'exit-codes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MISSING = join(dir, 'missing.json');
const NOT_JSON = join(dir, 'not.json');
writeFileSync(NOT_JSON, '{ nope');
const EMPTY_DIR = dir;
const TRAFFIC = fromPackageRoot('fixtures', 'traffic', 'example.yaml');

type Kind =
  | 'unknown flag'
  | 'bad flag value'
  | 'invalid IP'
  | 'name matching nothing'
  | 'missing file'
  | 'invalid file';
const EXPECTED: Record<Kind, number> = {
  'unknown flag': 64,
  'bad flag value': 64,
  'invalid IP': 64,
  'name matching nothing': 64,
  'missing file': 2,
  'invalid file': 2,
};

const CASES: [command: string, kind: Kind, args: string[]][] = [
  ['serve', 'unknown flag', ['serve', '--no-such-flag']],
  ['serve', 'bad flag value', ['serve', '--port', 'eighty']],
  ['serve', 'missing file', ['serve', '--bucket-map', MISSING, '--port', '0', '--admin-port', '0']],
  ['serve', 'invalid file', ['serve', '--bucket-map', NOT_JSON, '--port', '0', '--admin-port', '0']],
  ['explain', 'unknown flag', ['explain', '--no-such-flag', '8.8.8.8']],
  ['explain', 'bad flag value', ['explain', '--semantics', 'lpm', '8.8.8.8']],
  ['explain', 'invalid IP', ['explain', '8.8.8.500']],
  ['explain', 'missing file', ['explain', '--bucket-map', MISSING, '8.8.8.8']],
  ['explain', 'invalid file', ['explain', '--aws-ranges', NOT_JSON, '8.8.8.8']],
  ['cost', 'unknown flag', ['cost', '--traffic', TRAFFIC, '--no-such-flag']],
  ['cost', 'bad flag value', ['cost', '--traffic', TRAFFIC, '--semantics', 'lpm']],
  ['cost', 'missing file', ['cost', '--traffic', MISSING]],
  ['cost', 'invalid file', ['cost', '--traffic', NOT_JSON]],
  ['run', 'unknown flag', ['run', '--no-such-flag']],
  ['run', 'bad flag value', ['run', '--concurrency', '0']],
  ['run', 'name matching nothing', ['run', '--suite', 'nope']],
  ['run', 'missing file', ['run', '--target-config', MISSING]],
  ['run', 'invalid file', ['run', '--target-config', NOT_JSON]],
  ['gate', 'unknown flag', ['gate', '--no-such-flag']],
  ['gate', 'bad flag value', ['gate', '--candidate', 'staging', '--baseline', 'production']],
  ['gate', 'missing file', ['gate', '--candidate-config', MISSING, '--baseline', 'production']],
  ['gate', 'invalid file', ['gate', '--candidate-config', NOT_JSON, '--baseline', 'production']],
  ['replay', 'unknown flag', ['replay', '--no-such-flag']],
  ['replay', 'bad flag value', ['replay', '--ip', '15.193.0.5', '--image', 'pause:3.10', '--semantics', 'lpm']],
  ['replay', 'invalid IP', ['replay', '--ip', '15.193.0.500', '--image', 'pause:3.10']],
  ['replay', 'name matching nothing', ['replay', '--ip', '15.193.0.5', '--image', 'kube-proxy:v1.34.0']],
  ['replay', 'missing file', ['replay', '--log', MISSING]],
  ['replay', 'invalid file', ['replay', '--log', NOT_JSON]],
  ['ranges audit', 'unknown flag', ['ranges', 'audit', '--no-such-flag']],
  ['ranges audit', 'bad flag value', ['ranges', 'audit', '--allow-unmapped', 'Mars_1']],
  ['ranges audit', 'missing file', ['ranges', 'audit', '--bucket-map', MISSING]],
  ['ranges audit', 'invalid file', ['ranges', 'audit', '--ranges', EMPTY_DIR]],
  ['ranges update', 'bad flag value', ['ranges', 'update', '--max-shrink', '2']],
  ['stack up', 'unknown flag', ['stack', 'up', '--no-such-flag']],
  ['stack up', 'bad flag value', ['stack', 'up', '--engine', 'vm']],
];

describe('exit codes: 64 for a wrong command line, 2 for what it points at, the same in every command', () => {
  it.each(CASES)('%s, %s', async (_command, kind, args) => {
    const io = captureIo();
    const code = await main(['node', 'registry-canary', ...args], io);
    expect(code, io.err()).toBe(EXPECTED[kind]);
    // a message a person can act on, never a stack trace
    expect(io.err()).toMatch(/\S/);
    expect(io.err()).not.toMatch(/\n\s+at /);
  });

  it('covers every command', async () => {
    const { commands } = await import('./commands/index.js');
    const { Command } = await import('commander');
    const program = new Command();
    for (const register of commands) register(program, captureIo(), () => {});
    const names = program.commands.flatMap((c) =>
      c.commands.length > 0 ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()],
    );
    const covered = new Set(CASES.map((c) => c[0]));
    expect(names.filter((n) => !covered.has(n))).toEqual([]);
  });
});
