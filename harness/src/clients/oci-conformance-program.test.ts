import { describe, expect, it } from 'vitest';
import {
  ConformanceEndpointError,
  ConformanceReportError,
  conformanceEndpoint,
  conformanceEnv,
  parseConformanceJunit,
  type ReadOnlyInputs,
} from './oci-conformance-program.js';

const inputs: ReadOnlyInputs = {
  repo: 'conformance',
  tags: ['tagtest0', 'TEST1'],
  manifests: ['sha256:aa', 'sha256:bb'],
  blobs: ['sha256:cc'],
  referrers: ['sha256:aa'],
};

describe('conformanceEndpoint', () => {
  it('takes host and scheme from a base URL, and the repository prefix without slashes', () => {
    expect(conformanceEndpoint('http://127.0.0.1:5000')).toEqual({
      registry: '127.0.0.1:5000',
      tls: 'disabled',
      repoPrefix: '',
    });
    expect(conformanceEndpoint('https://us-docker.pkg.dev/', '/k8s-artifacts-prod/images/')).toEqual({
      registry: 'us-docker.pkg.dev',
      tls: 'enabled',
      repoPrefix: 'k8s-artifacts-prod/images',
    });
  });

  it('refuses what the program cannot express', () => {
    for (const bad of ['not a url', 'ftp://x', 'http://x/prefix', 'http://x/?a=1', 'http://u:p@x']) {
      expect(() => conformanceEndpoint(bad), bad).toThrow(ConformanceEndpointError);
    }
  });
});

describe('conformanceEnv', () => {
  const endpoint = conformanceEndpoint('https://reg.example', 'pre/fix');

  it('configures read-only pull mode for one group, and gives the read-only data to the read-only group only', () => {
    const ro = conformanceEnv(endpoint, inputs, 'read-only', '/r/ro', {
      PATH: '/bin',
      HOME: '/h',
      OCI_API_PUSH: 'true',
      OCI_USERNAME: 'me',
    });
    expect(ro).toMatchObject({
      OCI_REGISTRY: 'reg.example',
      OCI_TLS: 'enabled',
      OCI_REPO1: 'pre/fix/conformance',
      OCI_API_PUSH: 'false',
      OCI_API_TAGS_DELETE: 'false',
      OCI_API_MANIFESTS_DELETE: 'false',
      OCI_API_BLOBS_DELETE: 'false',
      OCI_FILTER_TEST: 'OCI Conformance Test/read-only',
      OCI_RESULTS_DIR: '/r/ro',
      OCI_RO_DATA_TAGS: 'tagtest0 TEST1',
      OCI_RO_DATA_MANIFESTS: 'sha256:aa sha256:bb',
      OCI_RO_DATA_BLOBS: 'sha256:cc',
      OCI_RO_DATA_REFERRERS: 'sha256:aa',
      PATH: '/bin',
    });
    // the caller's own OCI_* settings never reach the program
    expect(ro.OCI_USERNAME).toBeUndefined();
    const ping = conformanceEnv(endpoint, inputs, 'ping', '/r/ping', {});
    expect(ping.OCI_FILTER_TEST).toBe('OCI Conformance Test/ping');
    expect(Object.keys(ping).filter((k) => k.startsWith('OCI_RO_DATA'))).toEqual([]);
  });

  it('leaves out empty lists and refuses values the program would split', () => {
    const env = conformanceEnv(endpoint, { ...inputs, referrers: [] }, 'read-only', '/r', {});
    expect(env.OCI_RO_DATA_REFERRERS).toBeUndefined();
    expect(() => conformanceEnv(endpoint, { ...inputs, tags: ['a b'] }, 'read-only', '/r', {})).toThrow(/white space/);
  });
});

// The shape Go's encoding/xml writes for the program's junit.go: attributes and escaped text, one testcase per leaf.
const JUNIT = `<testsuites time="0.03" tests="4" disabled="1">
  <testsuite name="OCI Conformance Test" tests="4" failures="1" errors="0" disabled="1" time="0.03">
    <properties>
      <property name="Config" value="registry: x&#xA;"></property>
    </properties>
    <testcase name="OCI Conformance Test/read-only/push/manifest-by-tag" classname="" time="0.000003" status="skipped">
      <system-err>OCI Conformance Test/read-only/push/manifest-by-tag: skipping test:&#xA;  api Manifest put by tag is disabled in the configuration&#xA;</system-err>
    </testcase>
    <testcase name="OCI Conformance Test/read-only/tag-list" classname="" time="0.027948" status="failure">
      <system-out>tag &#34;TEST0&#34; returned when last set to &#34;b&#34; &amp; more</system-out>
      <system-err>GET /v2/conformance/tags/list&#xA;&lt;- 200</system-err>
    </testcase>
    <testcase name="OCI Conformance Test/ping" classname="" time="0.001" status="passed"></testcase>
    <testcase name="OCI Conformance Test/empty/referrers" classname="" status="error"/>
  </testsuite>
</testsuites>`;

describe('parseConformanceJunit', () => {
  it('reads every test case with its status, time, output and errors, entities decoded', () => {
    const cases = parseConformanceJunit(JUNIT);
    expect(cases.map((c) => [c.name, c.status])).toEqual([
      ['OCI Conformance Test/read-only/push/manifest-by-tag', 'skipped'],
      ['OCI Conformance Test/read-only/tag-list', 'failure'],
      ['OCI Conformance Test/ping', 'passed'],
      ['OCI Conformance Test/empty/referrers', 'error'],
    ]);
    expect(cases[0]!.output).toContain('skipping test:\n  api Manifest put by tag is disabled');
    expect(cases[1]!.errors).toBe('tag "TEST0" returned when last set to "b" & more');
    expect(cases[1]!.output).toBe('GET /v2/conformance/tags/list\n<- 200');
    expect(cases[1]!.timeSec).toBeCloseTo(0.027948);
    expect(cases[3]!.errors).toBe('');
  });

  it('takes the status from a child element when the attribute is missing', () => {
    const xml =
      '<testsuites><testsuite><testcase name="a"><failure message="m"/></testcase>' +
      '<testcase name="b"/></testsuite></testsuites>';
    expect(parseConformanceJunit(xml).map((c) => c.status)).toEqual(['failure', 'passed']);
  });

  it('refuses what is not its report', () => {
    expect(() => parseConformanceJunit('<html></html>')).toThrow(ConformanceReportError);
    expect(() => parseConformanceJunit('<testsuites><testcase status="passed"></testcase></testsuites>')).toThrow(
      /without a name/,
    );
    expect(() =>
      parseConformanceJunit('<testsuites><testcase name="x" status="weird"></testcase></testsuites>'),
    ).toThrow(/status "weird"/);
  });
});
