/**
 * The container engine (`--engine container`): the upstream registries and the redirector run as containers through
 * testcontainers 11.14, against a Docker-compatible API. Buckets, faults fronts and the edge stay processes.
 *
 * The API is, in order: DOCKER_HOST when set, /var/run/docker.sock when present, else a `podman system service`
 * this engine starts itself on a private socket with an isolated configuration (podman-service.ts). No image registry
 * is reachable, so images are assembled locally (rootfs-image.ts): the registry from /usr/bin/docker-registry and its
 * libraries; the redirector from redirector/Containerfile, with a Node base image assembled from /usr/bin/node and its
 * libraries passed as the BASE_IMAGE build argument. Containers use host networking and bind 127.0.0.1 (a published
 * port would listen on every interface), Ryuk stays off (its image cannot be pulled), and every container is stopped
 * and removed by the engine itself.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { GenericContainer as GenericContainerType, StartedTestContainer } from 'testcontainers';
import { findRepoRoot } from '../images/fixture-cache.js';
import { buildFingerprint, buildImageSquashed, containerfileSources, stageBuildContext } from './image-build.js';
import type { ProcessInfo } from './managed-process.js';
import { startPodmanService, type StartedPodmanService } from './podman-service.js';
import { parseListeningLine } from './redirector-process.js';
import { buildRootfsTar, imageExists, importRootfs } from './rootfs-image.js';
import { withRuntimePackagesOnly } from './runtime-packages.js';
import { StackError } from './stack-error.js';
import type { RedirectorService, RegistryService, Started } from './stack-service.js';
import { Wait as StackWait, type Clock } from './wait.js';

export interface ContainerEngineOptions {
  /** a directory of its own inside the stack's temp dir */
  dir: string;
  log: (message: string) => void;
  clock: Clock;
  echo?: (name: string, line: string) => void;
  env: Record<string, string>;
  timeoutMs: number;
  dockerRegistryBin: string;
  /** the caller's environment (DOCKER_HOST) */
  hostEnv?: NodeJS.ProcessEnv;
  /** the redirector's Containerfile (default `<repo>/redirector/Containerfile`); its COPY sources are repo-relative */
  redirectorContainerfile?: string;
}

/** The container engine: it starts the upstream registries and the redirector as containers. */
export interface ContainerServices {
  /** how the engine reached a container API */
  readonly runtime: 'docker-host' | 'docker-socket' | 'podman-service';
  startRegistry(opts: { name: string; dir: string }): Promise<Started<RegistryService>>;
  /** `files` are host paths the redirector's environment names; they are bind-mounted read-only at the same path */
  startRedirector(opts: { env: Record<string, string>; files: string[] }): Promise<Started<RedirectorService>>;
  /** the helper processes the engine runs (podman system service) */
  processes(): ProcessInfo[];
}

export const REGISTRY_IMAGE = 'localhost/registry-canary/docker-registry:rootfs';
export const NODE_BASE_IMAGE = 'localhost/registry-canary/node-base:local';
/** the tag is replaced by the build's fingerprint (image-build.ts) */
export const REDIRECTOR_IMAGE = 'localhost/registry-canary/redirector:local';

async function fileIdentity(path: string): Promise<string> {
  const st = await stat(path);
  return `${path}:${st.size}:${Math.round(st.mtimeMs)}`;
}

/** A port the kernel considers free right now (host networking needs it up front; the race is on loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const REGISTRY_CONFIG = [
  'version: 0.1',
  'log:',
  '  level: info',
  '  accesslog: {disabled: true}',
  'storage:',
  '  filesystem: {rootdirectory: /var/lib/registry}',
  '  delete: {enabled: true}',
  '  redirect: {disable: true}',
  '  maintenance: {uploadpurging: {enabled: false}}',
  'http:',
  '  addr: 127.0.0.1:5000',
  'health: {storagedriver: {enabled: false}}',
  '',
].join('\n');

export async function startContainerServices(opts: ContainerEngineOptions): Promise<Started<ContainerServices>> {
  const hostEnv = opts.hostEnv ?? process.env;
  await mkdir(opts.dir, { recursive: true });
  let podman: StartedPodmanService | null = null;
  let runtime: ContainerServices['runtime'];
  let dockerHost: string;
  if (hostEnv.DOCKER_HOST) {
    runtime = 'docker-host';
    dockerHost = hostEnv.DOCKER_HOST;
  } else if (existsSync('/var/run/docker.sock')) {
    runtime = 'docker-socket';
    dockerHost = 'unix:///var/run/docker.sock';
  } else {
    if (!existsSync('/usr/bin/podman')) {
      throw new StackError(
        'STACK_ENGINE_UNAVAILABLE',
        'the container engine needs DOCKER_HOST, /var/run/docker.sock, or podman (apt-get install podman)',
      );
    }
    runtime = 'podman-service';
    // a socket path per owning process, not per stack: testcontainers caches its client (and so the socket path)
    // for the life of the process, so a second stack must offer the API at the same place
    const socketPath = join(dirname(opts.dir), '..', `rc-podman-${process.pid}.sock`);
    podman = await startPodmanService({
      dir: join(opts.dir, 'podman'),
      socketPath,
      env: opts.env,
      clock: opts.clock,
      timeoutMs: opts.timeoutMs,
      echo: opts.echo,
    });
    dockerHost = podman.dockerHost;
    opts.log(`container engine: podman system service on ${socketPath}`);
  }
  if (!dockerHost.startsWith('unix://')) {
    throw new StackError(
      'STACK_ENGINE_UNAVAILABLE',
      `DOCKER_HOST=${dockerHost}: only unix sockets are supported (containers must share the host's loopback)`,
    );
  }
  const socketPath = dockerHost.slice('unix://'.length);
  // testcontainers reads these when it first connects
  process.env.DOCKER_HOST = dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');

  const started = new Set<StartedTestContainer>();
  const stopContainer = async (c: StartedTestContainer) => {
    if (!started.delete(c)) return;
    await c.stop({ remove: true, removeVolumes: true, timeout: 3_000 }).catch(() => {});
  };

  let registryImage: Promise<void> | null = null;
  const ensureRegistryImage = () =>
    (registryImage ??= (async () => {
      if (await imageExists(socketPath, REGISTRY_IMAGE)) return;
      const tar = await buildRootfsTar(
        {
          binaries: [opts.dockerRegistryBin],
          files: { '/etc/docker/registry/config.yml': REGISTRY_CONFIG },
          dirs: ['/tmp', '/var/lib/registry'],
        },
        join(opts.dir, 'registry-image'),
      );
      await importRootfs(socketPath, tar, REGISTRY_IMAGE.split(':')[0]!, 'rootfs', [
        `ENTRYPOINT ["${opts.dockerRegistryBin}", "serve", "/etc/docker/registry/config.yml"]`,
      ]);
      await rm(join(opts.dir, 'registry-image'), { recursive: true, force: true });
    })());

  let redirectorImage: Promise<void> | null = null;
  let redirectorImageName = REDIRECTOR_IMAGE;
  const ensureRedirectorImage = () =>
    (redirectorImage ??= (async () => {
      const repoRoot = findRepoRoot();
      const containerfile = opts.redirectorContainerfile ?? join(repoRoot, 'redirector', 'Containerfile');
      if (!existsSync(containerfile))
        throw new StackError(
          'STACK_ENGINE_UNAVAILABLE',
          `the redirector image is built from ${containerfile}, which does not exist`,
        );
      const text = await readFile(containerfile, 'utf8');
      const copied = containerfileSources(text);
      for (const src of copied) {
        if (!existsSync(join(repoRoot, src)))
          throw new StackError(
            'STACK_ENGINE_UNAVAILABLE',
            `redirector image: ${containerfile} copies ${src}, which does not exist (run \`npm run build\` first?)`,
          );
      }
      // node_modules narrowed to the packages the copied code runs with (runtime-packages.ts)
      const sources = await withRuntimePackagesOnly(repoRoot, copied).catch((err: unknown) => {
        throw new StackError('STACK_ENGINE_UNAVAILABLE', `redirector image: ${(err as Error).message}`, { cause: err });
      });
      const key = await buildFingerprint(repoRoot, text, sources, { base: await fileIdentity(process.execPath) });
      redirectorImageName = `${REDIRECTOR_IMAGE.split(':')[0]}:${key}`;
      if (await imageExists(socketPath, redirectorImageName)) return;
      const started = opts.clock.now();
      if (!(await imageExists(socketPath, NODE_BASE_IMAGE))) {
        const tar = await buildRootfsTar(
          { binaries: [process.execPath], dirs: ['/tmp'] },
          join(opts.dir, 'node-image'),
        );
        await importRootfs(socketPath, tar, NODE_BASE_IMAGE.split(':')[0]!, 'local', [
          `ENV PATH=${dirname(process.execPath)}:/usr/bin:/bin`,
        ]);
        await rm(join(opts.dir, 'node-image'), { recursive: true, force: true });
      }
      const stage = join(opts.dir, 'redirector-context');
      await stageBuildContext(repoRoot, containerfile, sources, stage);
      await buildImageSquashed({
        socketPath,
        contextDir: stage,
        dockerfile: 'Containerfile',
        tag: redirectorImageName,
        buildArgs: { BASE_IMAGE: NODE_BASE_IMAGE },
      });
      await rm(stage, { recursive: true, force: true });
      opts.log(`container engine: built ${redirectorImageName} (${Math.round(opts.clock.now() - started)} ms)`);
    })());

  // the two images are independent; build the redirector's while the registries start
  const redirectorImageReady = ensureRedirectorImage();
  redirectorImageReady.catch(() => {});

  const run = async (
    name: string,
    container: GenericContainerType,
    timeoutMs: number,
  ): Promise<StartedTestContainer> => {
    try {
      const c = await container
        .withName(`registry-canary-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
        .withStartupTimeout(timeoutMs)
        .start();
      started.add(c);
      return c;
    } catch (err) {
      throw new StackError('STACK_WAIT_TIMEOUT', `${name} container: ${(err as Error).message}`, { cause: err });
    }
  };

  return {
    runtime,
    async startRegistry({ name, dir }) {
      await ensureRegistryImage();
      const port = await freePort();
      const data = join(dir, 'data');
      await mkdir(data, { recursive: true });
      const c = await run(
        name,
        new GenericContainer(REGISTRY_IMAGE)
          .withNetworkMode('host')
          .withEnvironment({
            REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
            REGISTRY_HTTP_SECRET: Math.random().toString(36).slice(2),
          })
          .withBindMounts([{ source: data, target: '/var/lib/registry', mode: 'rw' }])
          .withWaitStrategy(Wait.forLogMessage(/listening on 127\.0\.0\.1/)),
        opts.timeoutMs,
      );
      const url = `http://127.0.0.1:${port}`;
      await StackWait.forHttp(`${url}/v2/`, { timeoutMs: opts.timeoutMs }).waitUntilReady({
        clock: opts.clock,
        component: `${name} container`,
      });
      return { url, stop: () => stopContainer(c) };
    },
    async startRedirector({ env, files }) {
      await redirectorImageReady;
      const c = await run(
        'redirector',
        new GenericContainer(redirectorImageName)
          .withNetworkMode('host')
          .withEnvironment({ ...env, HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1' })
          .withBindMounts(files.map((f) => ({ source: f, target: f, mode: 'ro' as const })))
          .withWaitStrategy(Wait.forLogMessage(/"msg":\s*"listening"/)),
        opts.timeoutMs,
      );
      let listening: { url: string; adminUrl: string } | null = null;
      const logs = await c.logs();
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(
          () => reject(new StackError('STACK_WAIT_TIMEOUT', 'redirector container: no "listening" line in its logs')),
          opts.timeoutMs,
        );
        logs.on('data', (chunk: Buffer | string) => {
          buf += chunk.toString();
          for (const line of buf.split('\n')) {
            listening ??= parseListeningLine(line.trim());
          }
          if (listening) {
            clearTimeout(timer);
            logs.destroy?.();
            resolve();
          }
        });
      });
      const { url, adminUrl } = listening!;
      await StackWait.forHttp(`${adminUrl}/readyz`, { timeoutMs: opts.timeoutMs }).waitUntilReady({
        clock: opts.clock,
        component: 'redirector container',
      });
      return { url, adminUrl, stop: () => stopContainer(c) };
    },
    processes: () => (podman ? [podman.process.info] : []),
    async stop() {
      await Promise.all([...started].map(stopContainer));
      await redirectorImageReady.catch(() => {});
      await podman?.stop();
      if (podman) await rm(podman.socketPath, { force: true });
    },
  };
}
