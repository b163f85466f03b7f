/**
 * `node dist/harness/src/images/main.js --out DIR [--big-layer-mib N] [--record]`: writes the fixture images to
 * DIR (one OCI layout per repository) and prints the image list as JSON. `--record` also rewrites
 * fixtures/images/digests.json (only for a deliberate generator change; bump FIXTURE_GENERATOR_VERSION with it).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { digestRecordOf, fixtureDigestsFile } from './fixture-digests.js';
import { buildFixtureImages, DEFAULT_BIG_LAYER_MIB } from './fixture-images.js';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      'big-layer-mib': { type: 'string' },
      record: { type: 'boolean', default: false },
    },
  });
  const mib = values['big-layer-mib'] === undefined ? DEFAULT_BIG_LAYER_MIB : Number(values['big-layer-mib']);
  if (values.out === undefined || !Number.isInteger(mib) || mib < 0) {
    process.stderr.write('usage: main.js --out DIR [--big-layer-mib N] [--record]\n');
    return 64;
  }
  const set = await buildFixtureImages(values.out, { bigLayerMiB: mib });
  if (values.record) {
    if (mib !== DEFAULT_BIG_LAYER_MIB) {
      process.stderr.write(`--record needs the default big layer (${DEFAULT_BIG_LAYER_MIB} MiB)\n`);
      return 64;
    }
    await writeFile(fixtureDigestsFile(), `${JSON.stringify(digestRecordOf(set), null, 2)}\n`);
  }
  process.stdout.write(`${JSON.stringify(set.images.map(({ ref, digest }) => ({ ref, digest })))}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
    process.exit(1);
  },
);
