/**
 * Every reference in the repository resolves for a reader who has only the repository: a path or a relative
 * markdown link names a file that exists, a `docs/x.md#anchor` names a heading of that file, and nothing cites a
 * document kept outside the repository, this project's own issue numbers or the working sessions that produced the
 * code (history belongs in git log). docs/reference/ holds, in this project's words, what the code needs from
 * outside documents, each fact with its public source.
 *
 * `findOffences` is pure: a file's text plus a view of the tree (which paths exist, which heading ids a markdown file
 * has). `trackedFiles` reads the git index, so the test needs no child process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';

export type ReferenceRule =
  | 'outside-document' // a document that is not in the repository
  | 'section-number' // a bare § number of such a document (an RFC's or a standard's sections are fine)
  | 'issue-number' // this project's issue or pull request number
  | 'session-narration' // the working sessions that produced the code
  | 'missing-path' // a path or relative link that names nothing in the tree
  | 'missing-anchor'; // a docs/x.md#anchor whose heading does not exist

export interface Offence {
  file: string;
  line: number;
  rule: ReferenceRule;
  text: string;
}

export interface Tree {
  /** whether a repository-relative path (file or directory, no leading `./`) exists */
  exists(path: string): boolean;
  /** the heading ids (the targets of `#…` links) of a markdown file, or null when it is not one */
  headingIds(path: string): ReadonlySet<string> | null;
}

/** Documents the project's research was drawn from; none of them is in the repository. */
const OUTSIDE_DOCUMENT = new RegExp(
  [
    String.raw`\bshared\/reference\b`,
    String.raw`\.\./shared\b`,
    String.raw`redirector-anchor`,
    String.raw`\bstyle\.md\b`,
  ]
    .concat([String.raw`\btoolchain\.md\b`, String.raw`\bkep-3000\b`, String.raw`\bfield-issues\.md\b`])
    .concat([String.raw`\bfield-failures\.md\b`, String.raw`\boci-pull-path\.md\b`])
    .join('|'),
  'i',
);
/** Names that exist under docs/reference/ but nowhere else: cited bare, they would be taken for outside documents. */
const REFERENCE_NAME = /(?<![\w/.-])(incidents|oci-distribution|archeio)\.md\b/i;

/** A standard's own section numbers: "RFC 9110 §14.2, §14.4", "NIST SP 800-38A §6.5". */
const STANDARD = String.raw`(RFC ?\d{3,5}|SP 800-\w+|ISO[ /]IEC \d+|IEEE \d+)`;
const STANDARD_SECTIONS = new RegExp(String.raw`${STANDARD}( ?§ ?[\d.]+)((,| and| or|\/) ?§ ?[\d.]+)*`, 'g');

const ISSUE_WORD = /\b(issues?|PRs?|pull requests?|tickets?)\s#?\d+\b/i;
/** `#12` or `(#12)` not preceded by `owner/repo` or a URL (nor a hop number: `#1 GET http://…`). */
const HASH_NUMBER = /(^|[^\w/.#&-])#\d+\b(?![\w-])(?! (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) )/;

const SESSION = new RegExp(
  [
    String.raw`\bsessions? (\d+|[ivx]+)\b`,
    String.raw`\b(this|that|the same|a later|an earlier|earlier|later|the previous|the next|one|each|every)`.concat(
      String.raw` session('s)?\b`,
    ),
    String.raw`\bin sessions?\b`,
    String.raw`\bsession-(\d+)\b`,
  ].join('|'),
  'i',
);

/** A repository-relative path mentioned in text: it starts with one of the top-level folders. */
const TOP_FOLDERS = ['docs', 'harness', 'redirector', 'suites', 'cli', 'fixtures', 'bench', 'scripts', 'deploy'];
const ROOT_PATH = new RegExp(String.raw`(?<![\w./@~$-])((?:${TOP_FOLDERS.join('|')})/[\w.@/-]*[\w/])(#[\w-]+)?`, 'g');
const MD_LINK = /\]\(([^)\s]+)\)/g;

const isMarkdown = (file: string) => file.endsWith('.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor of a markdown text: its headings (repeats get -1, -2, …) and explicit `<a id|name="…">`. */
export function markdownAnchors(text: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = headingAnchor(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      ids.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) ids.add(m[1]!);
  }
  return ids;
}

/** The comment part of a line of code (`//`, block-comment lines, `#` in YAML and shell), or the empty string. */
export function commentOf(line: string): string {
  const t = line.trimStart();
  if (/^(\/\/|\/\*|\*|#)/.test(t)) return t;
  const at = line.indexOf(' // ');
  return at >= 0 ? line.slice(at) : '';
}

/** The offences of one line (the file decides how relative links resolve). */
function lineOffences(file: string, line: string, tree: Tree): { rule: ReferenceRule }[] {
  const found: { rule: ReferenceRule }[] = [];
  line = line.replace(/\\u00a7/gi, '§'); // JSON may escape it
  const inReference = file.startsWith('docs/reference/');
  if (OUTSIDE_DOCUMENT.test(line)) found.push({ rule: 'outside-document' });
  else if (!inReference && REFERENCE_NAME.test(line)) found.push({ rule: 'outside-document' });
  // a markdown link to a URL resolves whatever its text says ("[#78](https://…)", "[§14.4](https://…)")
  const linked = line.replace(/\[[^\]]*\]\(https?:[^)\s]*\)/g, '');
  if (linked.replace(STANDARD_SECTIONS, '').includes('§')) found.push({ rule: 'section-number' });
  const withoutUrls = line.replace(/\bhttps?:\/\/\S+/g, '');
  const unlinked = linked.replace(/\bhttps?:\/\/\S+/g, '');
  if (ISSUE_WORD.test(unlinked) || HASH_NUMBER.test(unlinked)) found.push({ rule: 'issue-number' });
  if (SESSION.test(line)) found.push({ rule: 'session-narration' });

  const targets: { path: string; anchor?: string }[] = [];
  const prose = isMarkdown(file) ? withoutUrls : commentOf(withoutUrls);
  for (const m of prose.matchAll(ROOT_PATH)) {
    targets.push({ path: m[1]!.replace(/\/+$/, ''), anchor: m[2]?.slice(1) });
  }
  if (isMarkdown(file)) {
    for (const m of line.matchAll(MD_LINK)) {
      const link = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // a URL or mailto:
      const [p, anchor] = link.split('#', 2) as [string, string | undefined];
      const path = p === '' ? file : posix.normalize(posix.join(posix.dirname(file), p)).replace(/\/+$/, '');
      targets.push({ path, anchor });
    }
  }
  for (const t of targets) {
    const path = t.path.endsWith('.js') && !tree.exists(t.path) ? t.path.replace(/\.js$/, '.ts') : t.path;
    if (!tree.exists(path)) {
      found.push({ rule: 'missing-path' });
      continue;
    }
    if (t.anchor === undefined) continue;
    const ids = tree.headingIds(path);
    if (ids !== null && !ids.has(t.anchor)) found.push({ rule: 'missing-anchor' });
  }
  return found;
}

/** Every offence in one file's text. */
export function findOffences(file: string, text: string, tree: Tree): Offence[] {
  const out: Offence[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { rule } of lineOffences(file, line, tree)) out.push({ file, line: i + 1, rule, text: line.trim() });
  });
  return out;
}

/** `file:line rule: text`, one per offence. */
export function formatOffences(offences: readonly Offence[]): string {
  return offences.map((o) => `${o.file}:${o.line} ${o.rule}: ${o.text.slice(0, 160)}`).join('\n');
}

/** The git directory of a checkout or worktree (`.git` is a directory, or a file naming it). */
function gitDir(root: string): string {
  const dotGit = join(root, '.git');
  if (statSync(dotGit).isDirectory()) return dotGit;
  const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
  if (!m) throw new Error(`${dotGit} names no git directory`);
  return resolve(root, m[1]!.trim());
}

/** The paths in the git index (versions 2 to 4), i.e. what `git ls-files` lists. */
export function parseGitIndex(buf: Buffer): string[] {
  if (buf.toString('latin1', 0, 4) !== 'DIRC') throw new Error('not a git index (no DIRC signature)');
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) throw new Error(`git index version ${version} is not supported`);
  const count = buf.readUInt32BE(8);
  const paths: string[] = [];
  let at = 12;
  let previous = '';
  for (let i = 0; i < count; i++) {
    const start = at;
    const flags = buf.readUInt16BE(at + 60);
    at += 62;
    if (version >= 3 && flags & 0x4000) at += 2; // extended flags
    let path: string;
    if (version === 4) {
      let strip = 0; // offset-encoded varint: how many bytes of the previous path to drop
      let byte = buf[at++]!;
      strip = byte & 0x7f;
      while (byte & 0x80) {
        byte = buf[at++]!;
        strip = ((strip + 1) << 7) | (byte & 0x7f);
      }
      const end = buf.indexOf(0, at);
      path = previous.slice(0, previous.length - strip) + buf.toString('utf8', at, end);
      at = end + 1;
    } else {
      const end = buf.indexOf(0, at);
      path = buf.toString('utf8', at, end);
      at = start + Math.ceil((end - start + 1) / 8) * 8; // NUL-padded to a multiple of 8 bytes
    }
    previous = path;
    paths.push(path);
  }
  return paths;
}

export function trackedFiles(root: string): string[] {
  return [...new Set(parseGitIndex(readFileSync(join(gitDir(root), 'index'))))];
}

/** A Tree over a checkout: the tracked files and the directories that hold them. */
export function checkoutTree(root: string, files: readonly string[]): Tree {
  const known = new Set<string>();
  for (const f of files) {
    known.add(f);
    for (let d = dirname(f); d !== '.'; d = dirname(d)) known.add(d);
  }
  const cache = new Map<string, Set<string> | null>();
  return {
    // a file-name prefix (`suites/resilience/load`, as vitest filters take it) counts when it names a tracked file
    exists: (path) =>
      known.has(path) ||
      (!posix.basename(path).includes('.') && files.some((f) => f.startsWith(path))) ||
      (existsSync(join(root, path)) && !path.startsWith('node_modules')),
    headingIds(path) {
      if (!cache.has(path)) {
        const markdown = path.endsWith('.md') && known.has(path);
        cache.set(path, markdown ? markdownAnchors(readFileSync(join(root, path), 'utf8')) : null);
      }
      return cache.get(path)!;
    },
  };
}

/** Files the check skips: generated lockfiles and recorded third-party data. */
export function isChecked(file: string): boolean {
  if (file === 'package-lock.json') return false;
  if (file.startsWith('fixtures/ip-ranges/raw/') && file.endsWith('.json')) return false;
  if (file.startsWith('scripts/repository-references')) return false; // its patterns and bad examples
  return true;
}
