/**
 * Image references as real clients spell them: `<host:port>/<repository>:<tag>` (or `@<digest>`), where host:port
 * is a vantage's edge. Real clients choose plain HTTP or TLS themselves (skopeo tries TLS first, `ctr --plain-http`
 * does not), so only the authority of the edge URL survives.
 */
export interface ClientReference {
  /** `host:port` of the edge (brackets kept for IPv6 literals) */
  authority: string;
  repository: string;
  /** exactly one of tag and digest is set */
  tag?: string;
  digest?: string;
  /** `authority/repository:tag` or `authority/repository@digest` */
  text: string;
  /** whether the edge is plain HTTP (clients must be told: --plain-http, --tls-verify=false) */
  plainHttp: boolean;
}

/** `ref` is a target image ref, `<repository>:<tag>` or `<repository>@<digest>`. */
export function clientReference(edgeUrl: string, ref: string): ClientReference {
  const url = new URL(edgeUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const authority = `${url.hostname}:${port}`;
  const at = ref.indexOf('@');
  if (at > 0) {
    const repository = ref.slice(0, at);
    const digest = ref.slice(at + 1);
    return {
      authority,
      repository,
      digest,
      text: `${authority}/${repository}@${digest}`,
      plainHttp: url.protocol === 'http:',
    };
  }
  const colon = ref.lastIndexOf(':');
  if (colon <= 0 || ref.lastIndexOf('/') > colon) throw new Error(`image ref "${ref}" has no tag`);
  const repository = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  return { authority, repository, tag, text: `${authority}/${repository}:${tag}`, plainHttp: url.protocol === 'http:' };
}
