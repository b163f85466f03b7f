/**
 * `node dist/harness/src/registry/main.js --root DIR [--port 0] [--host 127.0.0.1]`: the embedded registry as a
 * process. Prints one JSON line `{"msg":"listening","url":...}` on stdout when ready, logs to stderr, and exits 0 on
 * SIGTERM/SIGINT after closing its listener.
 */
import { parseArgs } from 'node:util';
import { startEmbeddedRegistry } from './embedded-registry.js';

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: main.js --root DIR [--port N] [--host ADDR]\n`);
    return 64;
  }
  if (values.root === undefined || !/^\d+$/.test(values.port)) {
    process.stderr.write('usage: main.js --root DIR [--port N] [--host ADDR]\n');
    return 64;
  }
  const registry = await startEmbeddedRegistry({ root: values.root, port: Number(values.port), host: values.host });
  for (const s of registry.catalog.skipped)
    process.stderr.write(`${JSON.stringify({ msg: 'skipped layout', ...s })}\n`);
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: registry.url, repositories: [...registry.catalog.repos.keys()] })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await registry.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${JSON.stringify({ msg: 'fatal', error: String((e as Error)?.stack ?? e) })}\n`);
    process.exit(1);
  },
);
