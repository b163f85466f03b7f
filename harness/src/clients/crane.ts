/**
 * crane (go-containerregistry) as an optional real client, used when it is on PATH (not packaged in Debian 12).
 *
 * `crane digest` resolves the tag (HEAD, falling back to GET when the final hop lacks Docker-Content-Digest) and
 * `crane validate --remote` re-hashes every layer, config and manifest, recursing into indexes
 * (docs/reference/oci-pull-path.md#clients-through-redirects). `--insecure` allows plain HTTP. crane refuses a redirect
 * to a *different* host whose address is loopback or private (its SSRF guard); the local stack stays on 127.0.0.1,
 * which it allows.
 */
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';

export interface CraneResult {
  run: ToolRun;
  digest: string | null;
}

function insecure(ref: ClientReference): string[] {
  return ref.plainHttp ? ['--insecure'] : [];
}

export async function craneDigest(bin: string, ref: ClientReference, opts: ToolRunOptions = {}): Promise<CraneResult> {
  const run = await runTool(bin, ['digest', ...insecure(ref), ref.text], opts);
  const digest = run.exitCode === 0 ? run.stdout.trim() || null : null;
  return { run, digest };
}

export async function craneValidateRemote(bin: string, ref: ClientReference, opts: ToolRunOptions = {}): Promise<ToolRun> {
  return runTool(bin, ['validate', '--remote', ...insecure(ref), ref.text], opts);
}
