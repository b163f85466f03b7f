import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockAgent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RangeFetchError, createRangeTextReader, isUrlSource } from './range-text-reader.js';

const tmp = mkdtempSync(join(tmpdir(), 'range-text-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const never = new AbortController().signal;

async function fetchError(p: Promise<unknown>): Promise<RangeFetchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RangeFetchError);
    expect((err as RangeFetchError).code).toBe('RANGE_FETCH_FAILED');
    return err as RangeFetchError;
  }
  throw new Error('expected a RangeFetchError');
}

describe('isUrlSource', () => {
  it.each([
    ['https://ip-ranges.amazonaws.com/ip-ranges.json', true],
    ['HTTP://x/y', true],
    ['/srv/aws.json', false],
    ['file:///srv/aws.json', false],
    ['ftp://x/y', false],
  ])('%s → %s', (source, url) => expect(isUrlSource(source)).toBe(url));
});

describe('files', () => {
  const path = join(tmp, 'aws.json');
  writeFileSync(path, '{"syncToken":"1"}');

  it('reads a path or a file: URL', async () => {
    const read = createRangeTextReader();
    expect(await read(path, never)).toBe('{"syncToken":"1"}');
    expect(await read(pathToFileURL(path).href, never)).toBe('{"syncToken":"1"}');
  });

  it('names the file it cannot read', async () => {
    const err = await fetchError(createRangeTextReader()(join(tmp, 'nope.json'), never));
    expect(err.message).toMatch(/^cannot read .*nope\.json: ENOENT/);
  });

  it('gives up when aborted', async () => {
    const err = await fetchError(createRangeTextReader()(path, AbortSignal.abort(new Error('stopping'))));
    expect(err.message).toMatch(/^cannot read .*aws\.json: /);
  });
});

describe('URLs (undici MockAgent, no network)', () => {
  const agents: MockAgent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
  });
  const mock = (): MockAgent => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    return agent;
  };
  const URL_ = 'https://ranges.example/ip-ranges.json';

  it('returns the body of a 200', async () => {
    const agent = mock();
    agent.get('https://ranges.example').intercept({ path: '/ip-ranges.json', method: 'GET' }).reply(200, '{"ok":true}');
    expect(await createRangeTextReader({ dispatcher: agent })(URL_, never)).toBe('{"ok":true}');
  });

  it('rejects any other status, redirects included', async () => {
    const agent = mock();
    agent
      .get('https://ranges.example')
      .intercept({ path: '/ip-ranges.json', method: 'GET' })
      .reply(302, '', { headers: { location: 'https://elsewhere.example/' } });
    expect((await fetchError(createRangeTextReader({ dispatcher: agent })(URL_, never))).message).toBe(
      `cannot fetch ${URL_}: HTTP 302`,
    );
  });

  it('refuses a body larger than maxBytes', async () => {
    const agent = mock();
    agent
      .get('https://ranges.example')
      .intercept({ path: '/ip-ranges.json', method: 'GET' })
      .reply(200, 'x'.repeat(2048));
    expect((await fetchError(createRangeTextReader({ dispatcher: agent, maxBytes: 1024 })(URL_, never))).message).toBe(
      `cannot fetch ${URL_}: the body exceeds 1024 bytes`,
    );
  });

  it('reports connection errors', async () => {
    const agent = mock();
    agent
      .get('https://ranges.example')
      .intercept({ path: '/ip-ranges.json', method: 'GET' })
      .replyWithError(new Error('connection reset'));
    expect((await fetchError(createRangeTextReader({ dispatcher: agent })(URL_, never))).message).toBe(
      `cannot fetch ${URL_}: connection reset`,
    );
  });

  it('stops when aborted', async () => {
    const agent = mock();
    agent.get('https://ranges.example').intercept({ path: '/ip-ranges.json', method: 'GET' }).reply(200, '{}');
    const err = await fetchError(
      createRangeTextReader({ dispatcher: agent })(URL_, AbortSignal.abort(new Error('stopping'))),
    );
    expect(err.message).toBe(`cannot fetch ${URL_}: stopping`);
  });
});
