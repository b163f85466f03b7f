/**
 * go-programs.ts against a fake `go` (a shell script that writes an executable into $GOBIN and counts its calls),
 * then against the real toolchain when there is one (under CI=true there must be).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckFailure, NotApplicable } from '../results/check.js';
import { locateTool, runTool } from './external-tool.js';
import {
  GO_PROGRAMS,
  GoProgramError,
  ensureGoProgram,
  goCommandName,
  goProgramCacheDir,
  goProgramPath,
  prepareGoPrograms,
  requireGoProgram,
  type GoProgram,
} from './go-programs.js';

// The fake go: `go install <pkg>@<version>` appends its arguments to $FAKE_GO_LOG, waits $FAKE_GO_DELAY seconds,
// then writes $GOBIN/<command> (a script that prints the package and version), or, with $FAKE_GO_FAIL set, writes a
// half-built file and exits 2 with a compiler-like message.
const FAKE_GO = `#!/bin/sh
echo "$*" >> "$FAKE_GO_LOG"
[ "$1" = install ] || { echo "fake go: only install" >&2; exit 64; }
spec="$2"; pkg="\${spec%@*}"; version="\${spec##*@}"
cmd="\${pkg##*/}"
case "$cmd" in v[0-9]*) rest="\${pkg%/*}"; cmd="\${rest##*/}";; esac
sleep "\${FAKE_GO_DELAY:-0}"
if [ -n "$FAKE_GO_FAIL" ]; then
  echo partial > "$GOBIN/$cmd"
  echo "# $pkg" >&2
  echo "./main.go:3:1: syntax error: $FAKE_GO_FAIL" >&2
  exit 2
fi
printf '#!/bin/sh\\necho "%s %s"\\n' "$pkg" "$version" > "$GOBIN/$cmd"
chmod +x "$GOBIN/$cmd"
`;

let work: string;
let fakeBin: string;
let emptyBin: string;
let caseNo = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rc-go-programs-'));
  fakeBin = join(work, 'fake-bin');
  emptyBin = join(work, 'empty-bin');
  await mkdir(fakeBin);
  await mkdir(emptyBin);
  await writeFile(join(fakeBin, 'go'), FAKE_GO);
  await chmod(join(fakeBin, 'go'), 0o755);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh cache and call log, with the fake go first on PATH (the shell utilities it uses stay reachable). */
async function fakeWorld(extra: NodeJS.ProcessEnv = {}) {
  caseNo += 1;
  const cache = join(work, `cache-${caseNo}`);
  const log = join(work, `go-calls-${caseNo}.log`);
  const env: NodeJS.ProcessEnv = {
    PATH: `${fakeBin}:/usr/bin:/bin`,
    HOME: work,
    REGISTRY_CANARY_GO_CACHE: cache,
    FAKE_GO_LOG: log,
    ...extra,
  };
  const calls = async (): Promise<string[]> => {
    try {
      return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { cache, env, calls };
}

const fake = (name: string, version = 'v1.2.3'): GoProgram => ({
  name,
  pkg: `example.com/tools/cmd/${name}`,
  version,
  command: name,
  purpose: 'a test program',
});

describe('goCommandName', () => {
  it('is the last path element, or the one before a major-version suffix', () => {
    expect(goCommandName('github.com/google/go-containerregistry/cmd/crane')).toBe('crane');
    expect(goCommandName('sigs.k8s.io/kustomize/kustomize/v5')).toBe('kustomize');
    expect(goCommandName('example.com/x/version')).toBe('version');
  });

  it('matches every pinned program', () => {
    for (const p of Object.values(GO_PROGRAMS)) expect(p.command).toBe(goCommandName(p.pkg));
  });
});

describe('the cache directory', () => {
  it('is REGISTRY_CANARY_GO_CACHE, else under XDG_CACHE_HOME, else under ~/.cache', () => {
    expect(goProgramCacheDir({ REGISTRY_CANARY_GO_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(goProgramCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/registry-canary/go');
    expect(goProgramCacheDir({ HOME: '/h' })).toBe('/h/.cache/registry-canary/go');
    expect(goProgramPath(fake('p'), { REGISTRY_CANARY_GO_CACHE: '/c' })).toBe('/c/bin/p@v1.2.3/p');
  });
});

describe('ensureGoProgram with a fake go', () => {
  it('installs once, then reuses the cache without running go', async () => {
    const { env, calls } = await fakeWorld();
    const program = fake('once');
    const path = await ensureGoProgram(program, { env });
    expect(path).toBe(goProgramPath(program, env));
    expect(await calls()).toEqual(['install example.com/tools/cmd/once@v1.2.3']);
    const ran = await runTool(path, []);
    expect(ran.stdout.trim()).toBe('example.com/tools/cmd/once v1.2.3');

    expect(await ensureGoProgram(program, { env })).toBe(path);
    expect(await requireGoProgram(program, { env })).toBe(path);
    expect(await calls()).toHaveLength(1);
  });

  it('installs each version beside the others', async () => {
    const { env, calls } = await fakeWorld();
    const a = await ensureGoProgram(fake('multi', 'v1.0.0'), { env });
    const b = await ensureGoProgram(fake('multi', 'v2.0.0'), { env });
    expect(a).not.toBe(b);
    expect((await runTool(b, [])).stdout.trim()).toBe('example.com/tools/cmd/multi v2.0.0');
    expect(await calls()).toHaveLength(2);
  });

  it('builds once when several callers want the same program at the same time', async () => {
    const { env, calls } = await fakeWorld({ FAKE_GO_DELAY: '1' });
    const program = fake('together');
    const paths = await Promise.all([1, 2, 3, 4].map(() => ensureGoProgram(program, { env })));
    expect(new Set(paths)).toEqual(new Set([goProgramPath(program, env)]));
    expect(await calls()).toHaveLength(1);
  });

  it("a failed build throws GoProgramError with go's output and leaves nothing that looks installed", async () => {
    const { cache, env, calls } = await fakeWorld({ FAKE_GO_FAIL: 'unexpected newline' });
    const program = fake('broken');
    const err = await ensureGoProgram(program, { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoProgramError);
    expect((err as GoProgramError).reason).toBe('install-failed');
    expect((err as GoProgramError).message).toContain('example.com/tools/cmd/broken@v1.2.3');
    expect((err as GoProgramError).message).toContain('exit 2');
    expect((err as GoProgramError).message).toContain('syntax error: unexpected newline');
    // neither the final place nor a staging directory is left behind
    expect(await readdir(join(cache, 'bin'))).toEqual([]);

    // the next call tries again (a failure is not cached), and a check sees a harness failure
    const failure = await requireGoProgram(program, { env }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CheckFailure);
    expect((failure as CheckFailure).failureClass).toBe('harness');
    expect((failure as CheckFailure).message).toContain('syntax error');
    expect(await calls()).toHaveLength(2);
  });

  it('a build that writes some other file is a failure, not an install', async () => {
    const { cache, env } = await fakeWorld();
    const program = { ...fake('named'), command: 'not-what-go-writes' };
    const err = await ensureGoProgram(program, { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoProgramError);
    expect((err as GoProgramError).message).toMatch(/wrote named, not not-what-go-writes/);
    expect(await readdir(join(cache, 'bin'))).toEqual([]);
  });
});

describe('prepareGoPrograms (before a run)', () => {
  it('builds each missing program once, says so, and skips what the cache holds', async () => {
    const { env, calls } = await fakeWorld();
    const said: string[] = [];
    await prepareGoPrograms(['crane', 'regctl', 'crane'], (m) => said.push(m), { env });
    expect(await calls()).toHaveLength(2);
    expect(said.filter((m) => m.startsWith('building '))).toHaveLength(2);
    said.length = 0;
    await prepareGoPrograms(['crane', 'regctl'], (m) => said.push(m), { env });
    expect(await calls()).toHaveLength(2);
    expect(said).toEqual([]);
  });

  it('reports a failed build and does not throw', async () => {
    const { env } = await fakeWorld({ FAKE_GO_FAIL: 'unexpected }' });
    const said: string[] = [];
    await expect(prepareGoPrograms(['regctl'], (m) => said.push(m), { env })).resolves.toBeUndefined();
    expect(said.join('\n')).toMatch(/regctl could not be built: .*unexpected }/s);
  });

  it('does nothing without Go', async () => {
    const said: string[] = [];
    await prepareGoPrograms(['crane'], (m) => said.push(m), {
      env: { PATH: emptyBin, REGISTRY_CANARY_GO_CACHE: join(work, 'none') },
    });
    expect(said).toEqual([]);
  });
});

describe('without Go on PATH', () => {
  it('ensureGoProgram says Go is missing', async () => {
    const { env } = await fakeWorld({ PATH: emptyBin });
    const err = await ensureGoProgram(fake('nogo'), { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoProgramError);
    expect((err as GoProgramError).reason).toBe('no-go');
  });

  it('a check is not applicable outside CI', async () => {
    const { env } = await fakeWorld({ PATH: emptyBin });
    const err = await requireGoProgram(fake('nogo'), { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotApplicable);
    expect((err as NotApplicable).reason).toMatch(/Go is not installed.*nogo/);
  });

  it('a check fails with class harness under CI=true', async () => {
    const { env } = await fakeWorld({ PATH: emptyBin, CI: 'true' });
    const err = await requireGoProgram(fake('nogo'), { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckFailure);
    expect((err as CheckFailure).failureClass).toBe('harness');
    expect((err as CheckFailure).message).toMatch(/Go is required when CI=true/);
  });

  it('an installed program is still used', async () => {
    const { env } = await fakeWorld();
    const program = fake('kept');
    const path = await ensureGoProgram(program, { env });
    expect(await requireGoProgram(program, { env: { ...env, PATH: emptyBin, CI: 'true' } })).toBe(path);
  });
});

describe('with the real Go toolchain', () => {
  it('ensureGoProgram(GO_PROGRAMS.crane) returns a crane that runs', async (ctx) => {
    const go = await locateTool('go');
    if (go === null) {
      if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('go is required on PATH when CI=true');
      ctx.skip();
    }
    // the shared cache (.ci/run fills it), so this builds only on a machine that has never built this version
    const path = await ensureGoProgram(GO_PROGRAMS.crane);
    const ran = await runTool(path, ['version'], { timeoutMs: 30_000 });
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout.trim()).toBe(GO_PROGRAMS.crane.version);
  }, 900_000);
});
