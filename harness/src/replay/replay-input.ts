/**
 * What `registry-canary replay` replays, read from the command line or
 * from the redirector's decision log (pure):
 *
 * - `--ip A --ip B --image pause:3.10`: every image pulled from every address;
 * - `--log FILE`: the JSON decision lines the redirector writes (redirector/src/server/decision-log.ts: `msg`
 *   "decision", `method`, `path`, `status`, `target`, `reason`, `ip`, `cloud`, `region`, `prefix`, `probeUrl`), one
 *   request each, replayed from the logged client address. A line wrapped by a log shipper (`jsonPayload`, as Cloud
 *   Logging exports it) is unwrapped. Other lines (start-up, warnings, text) are skipped and counted.
 */
import { isIP } from 'node:net';

export class ReplayInputError extends Error {
  readonly code = 'REPLAY_INPUT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInputError';
  }
}

/** A decision as the redirector logged it. */
export interface LoggedDecision {
  line: number;
  reason: string;
  status: number | null;
  target: string | null;
  cloud: string | null;
  region: string | null;
  prefix: string | null;
  /** the bucket object HEADed when it is not the target (a miss) */
  probeUrl: string | null;
}

/** One thing to replay: a whole image pull, or one logged request. */
export type ReplayItem =
  | { kind: 'pull'; ip: string; image: string }
  | { kind: 'request'; ip: string | null; method: string; path: string; logged: LoggedDecision };

const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** `--ip` × `--image`, validated. */
export function pullsFrom(ips: readonly string[], images: readonly string[]): ReplayItem[] {
  for (const ip of ips)
    if (isIP(ip) === 0) throw new ReplayInputError(`--ip ${JSON.stringify(ip)} is not an IP address`);
  for (const image of images) {
    if (!IMAGE_REF.test(image))
      throw new ReplayInputError(
        `--image ${JSON.stringify(image)} is not <repository>:<tag> (as seen through the redirector, e.g. pause:3.10)`,
      );
  }
  return ips.flatMap((ip) => images.map((image) => ({ kind: 'pull' as const, ip, image })));
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

export interface ParsedLog {
  items: ReplayItem[];
  /** lines that are not decisions, by reason, with their count */
  skipped: Record<string, number>;
}

/** Reads decision lines (JSON per line) into requests to replay. */
export function parseDecisionLog(text: string): ParsedLog {
  const items: ReplayItem[] = [];
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      skip('not JSON');
      return;
    }
    let d = o as Record<string, unknown>;
    if (typeof d?.jsonPayload === 'object' && d.jsonPayload !== null) d = d.jsonPayload as Record<string, unknown>;
    if (d?.msg !== 'decision') {
      skip('not a decision line');
      return;
    }
    const method = str(d.method);
    const path = str(d.path);
    if (method === null || path === null || !path.startsWith('/')) {
      skip('decision without method and path');
      return;
    }
    const ip = str(d.ip);
    if (ip !== null && isIP(ip) === 0) {
      skip('client address is not an IP (truncated or hashed logs cannot be replayed)');
      return;
    }
    items.push({
      kind: 'request',
      ip,
      method,
      path,
      logged: {
        line: i + 1,
        reason: str(d.reason) ?? '(none)',
        status: typeof d.status === 'number' ? d.status : null,
        target: str(d.target),
        cloud: str(d.cloud),
        region: str(d.region),
        prefix: str(d.prefix),
        probeUrl: str(d.probeUrl),
      },
    });
  });
  return { items, skipped };
}
