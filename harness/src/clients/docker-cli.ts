/**
 * The docker CLI as an optional real client: used only when the CLI is on PATH *and* a daemon answers. The daemon
 * treats 127.0.0.0/8 registries as insecure (plain HTTP) by default. A pulled image is removed again afterwards so
 * the check leaves the daemon as it found it.
 */
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';

/** null when the daemon answers, otherwise why it does not (for a not-applicable reason). */
export async function dockerDaemonProblem(bin: string, opts: ToolRunOptions = {}): Promise<string | null> {
  const run = await runTool(bin, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000, ...opts });
  if (run.exitCode === 0 && run.stdout.trim() !== '') return null;
  return (run.stderr.trim().split('\n').pop() ?? 'no answer').slice(0, 300);
}

export interface DockerPull {
  run: ToolRun;
  /** the repo digest the daemon recorded for the pulled reference, or null */
  digest: string | null;
}

export async function dockerPull(bin: string, ref: ClientReference, opts: ToolRunOptions = {}): Promise<DockerPull> {
  const run = await runTool(bin, ['pull', '--quiet', ref.text], opts);
  if (run.exitCode !== 0) return { run, digest: null };
  const inspect = await runTool(bin, ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref.text], opts);
  let digest: string | null = null;
  if (inspect.exitCode === 0) {
    const prefix = `${ref.authority}/${ref.repository}@`;
    const repoDigests = JSON.parse(inspect.stdout.trim() || '[]') as string[];
    digest = repoDigests.find((d) => d.startsWith(prefix))?.slice(prefix.length) ?? null;
  }
  await runTool(bin, ['image', 'rm', '--force', ref.text], opts);
  return { run, digest };
}
