/**
 * The official conformance program's tests, as checks: one per distinct test name of the pinned version
 * (go-programs.ts) in read-only pull mode, aggregated over every input it ran on (a `read-only/head/blob-head` runs
 * once per seeded blob). The list is fixed so a run always reports the same checks; a name the program reports
 * that is not listed here (a newer version) lands in `oci-conformance/unlisted`, never silently.
 */
import type { OciConformanceGroup } from '../../harness/src/index.js';

export interface ProgramTest {
  /** the test's name below the program's root, e.g. `read-only/head/blob-head` */
  name: string;
  group: OciConformanceGroup | 'push';
  title: string;
  /** why the program runs no such test against a read-only target, when that is expected */
  notRun?: string;
}

const PUSH = 'push tests: the target is read-only (OCI_API_PUSH=false); pushing through a redirector is out of scope';
const DELETE = 'delete tests: the target is read-only (the OCI_API_*_DELETE settings are false)';

export const PROGRAM_TESTS: readonly ProgramTest[] = [
  { name: 'ping', group: 'ping', title: 'GET /v2/ answers 200' },
  { name: 'empty/tag list', group: 'empty', title: "the repository's tag list answers with a parseable list" },
  { name: 'empty/referrers', group: 'empty', title: 'referrers of a random digest answer with an image index' },
  {
    name: 'sha256 blobs',
    group: 'push',
    title: 'blob push APIs, sha256 (and the range requests on what was pushed)',
    notRun: PUSH,
  },
  { name: 'sha512 blobs', group: 'push', title: 'blob push APIs, sha512', notRun: PUSH },
  { name: 'read-only/push/manifest-by-digest', group: 'read-only', title: 'manifest push by digest', notRun: PUSH },
  { name: 'read-only/push/manifest-by-tag', group: 'read-only', title: 'manifest push by tag', notRun: PUSH },
  {
    name: 'read-only/tag-list',
    group: 'read-only',
    title: 'tags/list lists every seeded tag; `last` at the middle returns only the later tags',
  },
  { name: 'read-only/head/manifest-head-by-tag', group: 'read-only', title: 'HEAD of every seeded tag' },
  {
    name: 'read-only/head/manifest-head-by-digest',
    group: 'read-only',
    title: 'HEAD of every seeded manifest by digest',
  },
  { name: 'read-only/head/blob-head', group: 'read-only', title: 'HEAD of every seeded blob' },
  { name: 'read-only/pull/manifest-by-tag', group: 'read-only', title: 'GET of every seeded tag' },
  {
    name: 'read-only/pull/manifest-by-digest',
    group: 'read-only',
    title: 'GET of every seeded manifest by digest (body hashes to it)',
  },
  { name: 'read-only/pull/blob-get', group: 'read-only', title: 'GET of every seeded blob (body hashes to it)' },
  {
    name: 'read-only/referrers',
    group: 'read-only',
    title: 'the referrers API lists referrers of each seeded subject; the artifactType filter',
    notRun: 'the target seeds no referrer in the repository the program pulls from',
  },
  { name: 'read-only/delete/tag-delete', group: 'read-only', title: 'tag delete', notRun: DELETE },
  { name: 'read-only/delete/manifest-delete', group: 'read-only', title: 'manifest delete', notRun: DELETE },
  { name: 'read-only/delete/blob-delete', group: 'read-only', title: 'blob delete', notRun: DELETE },
  {
    name: 'missing-manifest/by-digest',
    group: 'missing-manifest',
    title: 'GET of a random manifest digest answers 404',
  },
  { name: 'missing-manifest/by-tag', group: 'missing-manifest', title: 'GET of a random tag answers 404' },
  {
    name: 'invalid-digest-format/manifest-put',
    group: 'invalid-digest-format',
    title: 'manifest push to sha256:baddigeststring is refused',
    notRun: PUSH,
  },
  {
    name: 'invalid-digest-format/manifest-get',
    group: 'invalid-digest-format',
    title: 'GET of sha256:baddigeststring answers 400 or 404',
  },
  {
    name: 'invalid-digest-format/delete/manifest-delete',
    group: 'invalid-digest-format',
    title: 'manifest delete',
    notRun: DELETE,
  },
  {
    name: 'invalid-digest-format/delete/blob-delete',
    group: 'invalid-digest-format',
    title: 'blob delete',
    notRun: DELETE,
  },
];

/** A test name as a check name: the path below the root, spaces as dashes (`empty/tag list` → `empty/tag-list`). */
export function checkNameOf(testName: string): string {
  return testName.trim().replace(/\s+/g, '-');
}

/** The name below the program's root (`OCI Conformance Test/ping` → `ping`); null for the root itself. */
export function relativeName(fullName: string, root: string): string | null {
  if (fullName === root) return null;
  return fullName.startsWith(`${root}/`) ? fullName.slice(root.length + 1) : fullName;
}
