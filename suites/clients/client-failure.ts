/**
 * Turns what a real client printed when it failed into the run summary's failure class, so a skopeo
 * "Digest did not match" reads as integrity and a connection refused as availability, not all as "conformance".
 */
import { CheckFailure, type FailureClass, type Hop, toolOutputTail, type ToolRun } from '../../harness/src/index.js';

export function clientFailureClass(output: string): FailureClass {
  const text = output.toLowerCase();
  // skopeo, containerd, regclient; then go-containerregistry's verifying reader and crane validate's comparisons
  const clients = /digest did not match|unexpected commit (digest|size)|verification failed|(size|digest) mismatch/;
  const ggcrReader = /error verifying (sha256|sha512) checksum|error verifying (size|digest)/;
  const craneValidate = /mismatched (layer\[\d+\] )?(digest|size|diffid)/;
  if (clients.test(text) || ggcrReader.test(text) || craneValidate.test(text)) {
    return 'integrity';
  }
  if (/\b429\b|toomanyrequests|too many requests/.test(text)) return 'rate-limited';
  if (
    /connection refused|connection reset|i\/o timeout|deadline exceeded|timed out|no such host|eof\b|\b5\d\d\b/.test(
      text,
    )
  ) {
    return 'availability';
  }
  if (/\b403\b.*html|<html/.test(text)) return 'blocked';
  return 'conformance';
}

/** A CheckFailure for a client command that exited non-zero. */
export function clientCommandFailure(what: string, run: ToolRun, hops: Hop[] = []): CheckFailure {
  const tail = toolOutputTail(run);
  const cls = run.exitCode === null ? 'availability' : clientFailureClass(`${run.stderr}\n${run.stdout}`);
  return new CheckFailure(cls, `${what} failed (exit ${run.exitCode ?? 'killed: timeout'}): ${tail}`, hops, {
    command: run.command,
    exitCode: run.exitCode,
    durationMs: run.durationMs,
  });
}
