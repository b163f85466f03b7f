/**
 * Tag listing and its pagination through the redirector (dist-spec "Listing Tags"): G1 discovery D1–D3, G2 R2/R17, and
 * the spec rules they leave out (`n=0`, Link). Query strings must survive the redirect, or `n` and `last` are silently
 * lost and the full list comes back (archeio's kubernetes/registry.k8s.io#326;
 * docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 8).
 *
 * Order and pagination are the upstream's to implement: a rule broken the same way by the upstream asked directly
 * is not applicable, not a redirector failure (upstream-differential.ts).
 */
import { NotApplicable, type Check, type Hop, type OciClient, type TagList } from '../../harness/src/index.js';
import { conformanceFailure, expectStatus } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { mostTaggedRepo, ociImageManifest } from './seeded-content.js';
import { blameUpstreamOrFail, upstreamView } from './upstream-differential.js';

const lexical = (a: string, b: string) => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};
const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function isSorted(tags: readonly string[], cmp: (a: string, b: string) => number): boolean {
  return tags.every((t, i) => i === 0 || cmp(tags[i - 1]!, t) <= 0);
}

function orderOf(tags: readonly string[]): (a: string, b: string) => number {
  return isSorted(tags, ascii) ? ascii : lexical;
}

function needTwo(repo: string, tags: readonly string[]): void {
  if (tags.length < 2)
    throw new NotApplicable(`repository ${repo} has ${tags.length} tag(s); pagination needs at least 2`);
}

/** A rule over one registry view (the redirector, or the upstream directly): the problem it sees, and its hops. */
type TagRule = (
  client: OciClient,
  repo: string,
  all: readonly string[],
) => Promise<{ problem: string | null; hops: Hop[]; details?: Record<string, unknown> }>;

const sortedRule: TagRule = async (client, repo) => {
  const list = await client.listTags(repo);
  const problem =
    isSorted(list.tags, lexical) || isSorted(list.tags, ascii)
      ? null
      : `tags/list of ${repo} is not sorted: ${list.tags.join(', ')}`;
  return { problem, hops: list.hops };
};

function nRule(n: (all: readonly string[]) => number): TagRule {
  return async (client, repo, all) => {
    const want = n(all);
    const page = await client.listTags(repo, { n: want, followLinks: false });
    const first = page.pages[0]!;
    const count = first.tags.length;
    const ok = count === want || (count < want && first.next !== undefined);
    return {
      problem: ok
        ? null
        : `tags/list?n=${want} of ${repo} returned ${count} tag(s)${count === all.length && want < all.length ? ' (the whole list)' : ''}`,
      hops: page.hops,
      details: { n: want, returned: count },
    };
  };
}

const lastAfterNRule: TagRule = async (client, repo, all) => {
  const n = Math.floor(all.length / 2);
  const first = await client.listTags(repo, { n, followLinks: false });
  const firstTags = first.pages[0]!.tags;
  if (firstTags.length > n)
    return { problem: `tags/list?n=${n} of ${repo} returned ${firstTags.length} tags`, hops: first.hops };
  const last = firstTags[firstTags.length - 1] ?? all[n - 1]!;
  const second = await client.listTags(repo, { n, last, followLinks: false });
  const secondTags = second.pages[0]!.tags;
  const hops = [...first.hops, ...second.hops];
  if (secondTags.length > n)
    return { problem: `tags/list?n=${n}&last=${last} of ${repo} returned ${secondTags.length} tags`, hops };
  const cmp = orderOf(all);
  const notAfter = secondTags.filter((t) => cmp(t, last) <= 0);
  if (notAfter.length > 0)
    return {
      problem: `tags/list?n=${n}&last=${last} of ${repo} returned tag(s) not after "${last}": ${notAfter.join(', ')}`,
      hops,
    };
  return { problem: null, hops, details: { n, last, page2: secondTags } };
};

const lastOnlyRule: TagRule = async (client, repo, all) => {
  const cmp = orderOf(all);
  const sorted = [...all].sort(cmp);
  const last = sorted[Math.floor(sorted.length / 2) - 1]!;
  const list = await client.listTags(repo, { last });
  const wrong = list.tags.filter((t) => cmp(t, last) <= 0);
  const missing = sorted.filter((t) => cmp(t, last) > 0 && !list.tags.includes(t));
  const parts = [
    wrong.length > 0 ? `returned ${wrong.join(', ')} (not after "${last}")` : '',
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
  ].filter(Boolean);
  return {
    problem: parts.length > 0 ? `tags/list?last=${last} of ${repo}: ${parts.join('; ')}` : null,
    hops: list.hops,
    details: { last },
  };
};

const nZeroRule: TagRule = async (client, repo) => {
  const page = await client.listTags(repo, { n: 0, followLinks: false });
  const first = page.pages[0]!;
  if (first.tags.length !== 0)
    return { problem: `tags/list?n=0 of ${repo} returned ${first.tags.length} tag(s)`, hops: page.hops };
  if (first.link !== undefined)
    return { problem: `tags/list?n=0 of ${repo} sent Link: ${first.link}`, hops: page.hops };
  return { problem: null, hops: page.hops };
};

const linkRule: TagRule = async (client, repo, all) => {
  const walked = await client.listTags(repo, { n: 1 });
  if (walked.pages.length === 1 && walked.pages[0]!.next === undefined) {
    if (walked.tags.length > 1)
      return { problem: `tags/list?n=1 of ${repo} returned ${walked.tags.length} tags and no Link`, hops: walked.hops };
    throw new NotApplicable(
      'the registry sends no Link header with ?n=1 (Link is a MAY); pagination by "last" is checked by g1-tag-list-last',
    );
  }
  const dupes = walked.tags.filter((t, i) => walked.tags.indexOf(t) !== i);
  const missing = all.filter((t) => !walked.tags.includes(t));
  const offPath = walked.pages
    .map((p) => p.next)
    .filter((n): n is string => n !== undefined)
    .filter((n) => !new URL(n).pathname.endsWith(`/${repo}/tags/list`));
  const parts = [
    dupes.length > 0 ? `repeated ${dupes.join(', ')}` : '',
    missing.length > 0 ? `never reached ${missing.join(', ')}` : '',
    offPath.length > 0 ? `Link left the tags/list path: ${offPath.join(', ')}` : '',
  ].filter(Boolean);
  return {
    problem: parts.length > 0 ? `walking Link from tags/list?n=1 of ${repo}: ${parts.join('; ')}` : null,
    hops: walked.hops,
    details: { pages: walked.pages.length },
  };
};

export function tagListChecks(kit: ConformanceKit): Check[] {
  /** Runs `rule` through the redirector; on a problem, asks the upstream directly who is to blame. */
  const judged = (name: string, title: string, rule: string, tagRule: TagRule, minTags: number) =>
    kit.check(name, title, rule, async ({ ctx, client, content, evidence }) => {
      const { repo } = mostTaggedRepo(await content());
      const all = (await client.listTags(repo)).tags;
      if (minTags > 1) needTwo(repo, all);
      const seen = await tagRule(client, repo, all);
      if (seen.problem === null) {
        evidence(seen.hops, seen.details);
        return;
      }
      const upstream = upstreamView(kit.target, ctx.signal);
      await blameUpstreamOrFail(seen.problem, seen.hops, async () => {
        const direct = upstream.repo(repo);
        const directAll = (await upstream.client.listTags(direct)).tags;
        return (await tagRule(upstream.client, direct, directAll)).problem;
      });
    });

  return [
    kit.check(
      'g1-tag-list',
      'GET request to list tags should yield 200 response; every seeded tag is listed (G1 D1; G2 R2, R17 membership)',
      'G1 content-discovery D1; G2 R2 tag list, R17 tag-list; dist-spec "Listing Tags"',
      async ({ client, content, evidence }) => {
        const { repo, tags: seeded } = mostTaggedRepo(await content());
        const list: TagList = await client.listTags(repo);
        const missing = seeded.filter((t) => !list.tags.includes(t));
        if (missing.length > 0)
          throw conformanceFailure(`tags/list of ${repo} lacks seeded tag(s) ${missing.join(', ')}`, list.hops);
        // E12: the body's name is informational (an upstream prefix may leak into it); recorded, not judged.
        evidence(list.hops, { repo, tags: list.tags.length, bodyName: list.name });
      },
    ),
    judged(
      'g1-tag-list-sorted',
      'The tag list is in sorted order (G1 D1 on main)',
      'G1 content-discovery D1 (main: "in sorted order"); dist-spec "Listing Tags" (lexical in v1.1.1; lexical or ASCII on main)',
      sortedRule,
      1,
    ),
    judged(
      'g1-tag-list-n',
      'GET number of tags should be limitable by `n` query parameter, through the redirect (G1 D2)',
      'G1 content-discovery D2; dist-spec "Listing Tags" "exactly n results unless fewer exist or a Link header is given"',
      nRule((all) => Math.floor(all.length / 2)),
      2,
    ),
    judged(
      'g1-tag-list-last',
      'GET start of tag is set by `last` query parameter: ?n=N then ?n=N&last=<tags[N-1]> returns only later tags (G1 D3)',
      'G1 content-discovery D3 (main); dist-spec "Listing Tags" "last": tags strictly after it, at most n',
      lastAfterNRule,
      2,
    ),
    judged(
      'tag-list-last-only',
      'GET ?last=<middle tag> returns every later tag and none up to it (G2 R17)',
      'G2 R17 tag-list (last without n); dist-spec "Listing Tags" "last"',
      lastOnlyRule,
      2,
    ),
    judged(
      'tag-list-n-zero',
      'GET ?n=0 returns an empty list and no Link header',
      'dist-spec "Listing Tags" (main): "n=0 → an empty list and no Link" (MUST)',
      nZeroRule,
      1,
    ),
    judged(
      'tag-list-link',
      'Following Link rel="next" from ?n=1 walks the whole list without repeats, staying on the tags/list path',
      'dist-spec "Listing Tags" (Link MUST be RFC 5988 rel="next"); docs/reference/oci-distribution.md#edge-cases E11',
      linkRule,
      2,
    ),
    kit.check(
      'query-survives-redirect',
      'Query strings survive the redirect: tags/list?n&last, referrers?artifactType, manifests?ns',
      'redirector rule 4 (the query string survives redirects); docs/reference/oci-distribution.md#edge-cases E10, docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 8; archeio kubernetes/registry.k8s.io#326',
      async ({ client, content, evidence }) => {
        const c = await content();
        const image = ociImageManifest(c);
        const subject = c.referrers[0]?.subject ?? image.image.digest;
        const probes = [
          `/v2/${image.repo}/tags/list?n=1&last=${encodeURIComponent(image.tag)}`,
          `/v2/${image.repo}/referrers/${subject}?artifactType=${encodeURIComponent('application/vnd.example+type')}`,
          `/v2/${image.repo}/manifests/${image.tag}?ns=registry.k8s.io`,
        ];
        const problems: string[] = [];
        const hops: Hop[] = [];
        for (const path of probes) {
          const first = await client.firstHop('GET', path);
          hops.push(first.hop);
          expectStatus(
            { status: first.status, hops: [first.hop] },
            [200, 301, 302, 303, 307, 308, 404],
            `GET ${path} (first hop)`,
          );
          if (first.location === undefined) continue;
          const sent = new URL(path, 'http://x').searchParams;
          const kept = new URL(first.location, first.hop.url).searchParams;
          for (const [k, v] of sent) {
            if (kept.get(k) !== v) problems.push(`${path}: Location ${first.location} lost ${k}=${v}`);
          }
        }
        if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
        evidence(hops);
      },
    ),
  ];
}
