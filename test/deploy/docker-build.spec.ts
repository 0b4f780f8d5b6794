import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, posix } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { envOf, parseDockerfile, type Stage, dockerignoreFilter } from './dockerfile';
import { REPO_ROOT } from './fake-cloud';

// The images, without Docker: the build stage's steps run in a temp dir on the repo's build
// context (.dockerignore applied), the runtime stage is assembled from its COPY/ENV/USER/CMD, and
// each app then runs as uid 1000 in a private mount namespace whose /tmp is a temp dir, with
// NODE_ENV=production, the env of its Cloud Run YAML, a fresh PostgreSQL database and Redis.
// The migration job's command runs first; /health and /ready must answer 200.

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const services = Boolean(DATABASE_URL && REDIS_URL);
/** Switching to uid 1000 and replacing /tmp need root (setpriv, a private mount namespace). */
const canSandbox =
  spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0 &&
  spawnSync('setpriv', ['--version']).status === 0;
const enabled = services && (canSandbox || process.env.ATP_REQUIRE_SERVICES === '1');
if (!services) {
  process.stdout.write('[image test] skipped: set DATABASE_URL and REDIS_URL to run it\n');
} else if (!enabled) {
  process.stdout.write('[image test] skipped: needs root (setpriv to uid 1000, unshare --mount)\n');
}

const UID = 1000;
// Apt packages are the base image's business (and the compiler fallback for better-sqlite3).
const OS_PACKAGE_STEP = /^apt-get\b/;
const images = [
  { dockerfile: 'router-service.Dockerfile', yaml: 'router-service.yaml', app: 'router' },
  { dockerfile: 'memory-gateway.Dockerfile', yaml: 'memory-gateway.yaml', app: 'memory-gateway' },
];

interface Paths {
  root: string;
  context: string;
  build: string;
  tmp: string;
  secrets: string;
}

const sh = (cmd: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) => {
  const res = spawnSync('bash', ['-euo', 'pipefail', '-c', cmd], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (res.status !== 0) {
    throw new Error(
      `"${cmd}" failed (${res.status ?? res.signal}):\n${(res.stdout + res.stderr).slice(-4000)}`,
    );
  }
};

/** The build context: git's files (tracked and new, minus .gitignore) that .dockerignore lets in. */
function copyContext(dest: string) {
  const keep = dockerignoreFilter(REPO_ROOT);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT })
    .toString('utf8')
    .split('\0')
    .filter((f) => f && keep(f) && existsSync(join(REPO_ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(join(REPO_ROOT, f), join(dest, f));
  }
  return files;
}

function contextCopy(rest: string, context: string, workdir: string) {
  const words = rest.split(/\s+/);
  const dest = words.pop()!;
  for (const src of words) {
    const target =
      words.length > 1 || dest.endsWith('/') ? join(workdir, dest, posix.basename(src)) : join(workdir, dest);
    if (!existsSync(join(context, src)))
      throw new Error(`COPY ${src}: not in the build context (.dockerignore?)`);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(context, src), target, { recursive: true });
  }
}

/**
 * better-sqlite3's install downloads a prebuilt binary (python3/make/g++ are the Dockerfile's
 * fallback). Offline, prebuild-install's documented local-prebuilds directory serves the binary
 * this checkout already has, instead of a two-minute compile.
 */
function localPrebuilds(dir: string): Record<string, string> {
  const pkg = join(REPO_ROOT, 'node_modules', 'better-sqlite3');
  const binary = join(pkg, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binary)) return {};
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
  mkdirSync(dir, { recursive: true });
  const tarball = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, tarball), '-C', pkg, 'build/Release/better_sqlite3.node']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

function runBuildStage(stage: Stage, p: Paths) {
  const env = {
    ...process.env,
    ...localPrebuilds(join(p.root, 'prebuilds')),
    // The local npm cache first (the Docker build has the network instead).
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  let workdir = p.build;
  const ran: string[] = [];
  for (const i of stage.instructions) {
    if (i.op === 'WORKDIR')
      workdir = p.build; // the build stage works in /app only
    else if (i.op === 'COPY') contextCopy(i.rest, p.context, workdir);
    else if (i.op === 'RUN') {
      if (OS_PACKAGE_STEP.test(i.rest)) continue;
      const started = Date.now();
      // Generous: npm ci of ~1,060 packages and three webpack builds share 2 cores with the other
      // test worker; a step that hangs still ends.
      sh(i.rest, workdir, env, 420_000);
      ran.push(i.rest);
      process.stdout.write(`[image test] RUN ${i.rest}: ${Math.round((Date.now() - started) / 1000)} s\n`);
    } else if (!['ENV', 'ARG'].includes(i.op))
      throw new Error(`build stage: ${i.op} is not handled by this test`);
  }
  return ran;
}

interface Runtime {
  appDir: string;
  env: Record<string, string>;
  cmd: string[];
  user: string;
  expose: number;
}

function assembleRuntime(stage: Stage, p: Paths, name: string): Runtime {
  const appDir = join(p.root, `${name}-image`);
  mkdirSync(appDir, { recursive: true });
  let user = 'root';
  let cmd: string[] = [];
  let expose = 0;
  for (const i of stage.instructions) {
    if (i.op === 'COPY') {
      expect(i.flags).toEqual(['--from=build']);
      const [src, dest] = i.rest.split(/\s+/);
      expect(src.startsWith('/app/')).toBe(true);
      // Hard links: the same bytes as a copy, without copying node_modules twice.
      mkdirSync(dirname(join(appDir, dest)), { recursive: true });
      execFileSync('cp', ['-al', join(p.build, src.slice('/app/'.length)), join(appDir, dest)]);
    } else if (i.op === 'USER') user = i.rest;
    else if (i.op === 'CMD') cmd = JSON.parse(i.rest) as string[];
    else if (i.op === 'EXPOSE') expose = Number(i.rest);
  }
  return { appDir, env: envOf(stage), cmd, user, expose };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `argv` as uid 1000 in a private mount namespace whose /tmp is p.tmp. */
function spawnInSandbox(p: Paths, cwd: string, env: Record<string, string>, argv: string[]): ChildProcess {
  const script =
    'mount --bind "$1" /tmp && cd "$2" && shift 2 && exec setpriv --reuid=$ATP_T_UID --regid=$ATP_T_UID --clear-groups -- "$@"';
  return spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', p.tmp, cwd, ...argv],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: '/nonexistent',
        ATP_T_UID: String(UID),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function output(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

async function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

async function waitFor200(url: string, child: ChildProcess, logs: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`process exited (${child.exitCode}) before ${url} answered:\n${logs()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return last;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last}):\n${logs()}`);
}

/** Files uid 1000 left anywhere it could write besides the sandbox's /tmp. */
function strayFiles(dirs: string[]): string[] {
  const found: string[] = [];
  for (const dir of dirs.filter(existsSync)) {
    const res = spawnSync('find', [dir, '-xdev', '-uid', String(UID)], { encoding: 'utf8' });
    found.push(...res.stdout.split('\n').filter(Boolean));
  }
  return found;
}

(enabled ? describe : describe.skip)('Docker images, built and run without Docker', () => {
  const dockerfiles = images.map((i) => parseDockerfile(join(REPO_ROOT, 'deploy', 'docker', i.dockerfile)));
  const p = {} as Paths;
  let dbName = '';
  let databaseUrl = '';
  const children: ChildProcess[] = [];
  let ranSteps: string[] = [];

  beforeAll(async () => {
    if (!canSandbox) throw new Error('the image test needs root: setpriv to uid 1000 and unshare --mount');
    // Outside /tmp: inside the sandbox /tmp is replaced, and the app must still be reachable.
    mkdirSync('/var/tmp', { recursive: true });
    p.root = mkdtempSync('/var/tmp/atp-image-test-');
    chmodSync(p.root, 0o755);
    p.context = join(p.root, 'context');
    p.build = join(p.root, 'build');
    p.tmp = join(p.root, 'tmp');
    p.secrets = join(p.root, 'secrets');
    for (const d of [p.context, p.build, p.tmp, p.secrets]) mkdirSync(d, { recursive: true });
    chmodSync(p.tmp, 0o1777);

    dbName = `atp_t_image_${randomBytes(5).toString('hex')}`; // atp_t_* : CI drops leftovers
    const admin = new Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    const u = new URL(DATABASE_URL!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();

    copyContext(p.context);
    ranSteps = runBuildStage(dockerfiles[0][0], p);
  }, 900_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (p.root) await new Promise((r) => spawn('rm', ['-rf', p.root], { stdio: 'ignore' }).on('exit', r));
    if (dbName) {
      const admin = new Client({ connectionString: DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  }, 120_000);

  it('both Dockerfiles share one build stage: npm ci, build, prune to production dependencies', () => {
    expect(dockerfiles[1][0]).toEqual(dockerfiles[0][0]);
    expect(dockerfiles.map((d) => d.map((s) => s.base))).toEqual([
      ['${NODE_IMAGE}', '${NODE_IMAGE}'],
      ['${NODE_IMAGE}', '${NODE_IMAGE}'],
    ]);
    for (const f of images) {
      expect(readFileSync(join(REPO_ROOT, 'deploy', 'docker', f.dockerfile), 'utf8')).toMatch(
        /^ARG NODE_IMAGE=node:20-bookworm-slim$/m,
      );
    }
    expect(ranSteps).toEqual([
      expect.stringMatching(/^npm ci\b/),
      expect.stringMatching(/^npm run build\b/),
      expect.stringMatching(/^npm prune --omit=dev\b/),
    ]);
    // Pruned: dev-only packages are gone, runtime ones stay.
    expect(existsSync(join(p.build, 'node_modules', '@nestjs', 'core'))).toBe(true);
    expect(existsSync(join(p.build, 'node_modules', 'jest'))).toBe(false);
    expect(existsSync(join(p.build, 'node_modules', 'typescript'))).toBe(false);
  });

  /** Assembles one image and its Cloud Run env (the YAML's, with secrets as Cloud Run injects them). */
  async function prepare(app: string, yaml: string, stage: Stage, oidcJson: string, tag: string) {
    const rt = assembleRuntime(stage, p, `${app}-${tag}`);
    const doc = parse(readFileSync(join(REPO_ROOT, 'deploy', 'cloud-run', yaml), 'utf8'));
    const tpl = doc.spec.template.spec;
    const container = tpl.containers[0];
    expect(container.ports[0].containerPort).toBe(rt.expose);
    const secretValues: Record<string, string> = {
      'atp-database-secret': databaseUrl,
      'atp-redis-secret': REDIS_URL!,
      'atp-auth-secret': randomBytes(48).toString('base64'),
      'atp-encryption-secret': `k1:${randomBytes(32).toString('base64')}`,
      'atp-oidc-secret': oidcJson,
      // What deploy.sh stores when no --provider-keys file is given.
      'atp-provider-secrets': '{}',
    };
    const mountDir: Record<string, string> = {};
    for (const vol of tpl.volumes ?? []) {
      const mount = container.volumeMounts.find((m: { name: string }) => m.name === vol.name);
      const dir = join(p.secrets, `${app}-${tag}`, mount.mountPath);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, vol.secret.items[0].path), secretValues[vol.secret.secretName]);
      mountDir[mount.mountPath] = dir;
    }
    const env: Record<string, string> = { ...rt.env };
    for (const e of container.env as {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef: { name: string } };
    }[]) {
      let value = e.valueFrom ? secretValues[e.valueFrom.secretKeyRef.name] : e.value!;
      for (const [mountPath, dir] of Object.entries(mountDir)) {
        if (value.startsWith(`${mountPath}/`)) value = dir + value.slice(mountPath.length);
      }
      env[e.name] = value;
    }
    const port = await freePort();
    Object.assign(env, {
      PORT: String(port), // Cloud Run sets PORT
      REDIS_KEY_PREFIX: `atp-image-${app}-${randomBytes(4).toString('hex')}:`,
      ATP_SHUTDOWN_GRACE_SECONDS: '2',
    });
    return { rt, env, port };
  }

  /** Starts the image's CMD in the sandbox; /health then /ready must answer 200; SIGTERM exits 0. */
  async function bootAndStop(rt: Runtime, env: Record<string, string>, port: number) {
    const child = spawnInSandbox(p, rt.appDir, env, rt.cmd);
    children.push(child);
    const logs = output(child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor200(`${base}/health`, child, logs, 40_000);
    const ready = await waitFor200(`${base}/ready`, child, logs, 15_000);
    expect(ready).toContain('"database"');
    // SIGTERM reaches node (exec form, no shell in between) and it exits cleanly.
    child.kill('SIGTERM');
    expect({ code: await exitOf(child, 10_000), logs: logs() }).toEqual({
      code: 0,
      logs: expect.any(String),
    });
  }

  // An operator's OIDC settings (a loopback issuer: discovery is fetched only when a token arrives).
  const OIDC = JSON.stringify({ issuer_url: 'http://127.0.0.1:9/', client_id: 'atp' });

  it.each(images.map((img, i) => ({ ...img, stage: dockerfiles[i][1] })))(
    '$app: runs as uid 1000 with only /tmp writable, migrates, and answers /health and /ready',
    async ({ app, yaml, stage }) => {
      const { rt, env, port } = await prepare(app, yaml, stage, OIDC, 'oidc');
      expect(rt.user).toBe(String(UID));
      expect(rt.cmd).toEqual(['node', `dist/apps/${app}/main.js`]);
      expect(rt.env.NODE_ENV).toBe('production');
      expect(readdirSync(rt.appDir).sort()).toEqual(['dist', 'node_modules', 'package.json']);
      // What npm run build makes besides main.js ships too: the PII worker thread's bundle, and
      // the router's console assets.
      expect(existsSync(join(rt.appDir, 'dist', 'apps', app, 'pii.worker.js'))).toBe(true);
      if (app === 'router')
        expect(existsSync(join(rt.appDir, 'dist', 'apps', 'router', 'console', 'index.html'))).toBe(true);

      // The Cloud Run Job: `node dist/apps/cli/main.js migrate` on the router image (deploy.sh).
      if (app === 'router') {
        const deployScript = readFileSync(join(REPO_ROOT, 'deploy', 'cloud-run', 'deploy.sh'), 'utf8');
        expect(deployScript).toContain('--command=node --args=dist/apps/cli/main.js,migrate');
        const jobEnv = {
          NODE_ENV: 'production',
          LOG_LEVEL: 'INFO',
          ATP_DATA_DIR: rt.env.ATP_DATA_DIR,
          DATABASE_URL: env.DATABASE_URL,
          REDIS_URL: env.REDIS_URL,
          JWT_SECRET_KEY: env.JWT_SECRET_KEY,
        };
        const job = spawnInSandbox(p, rt.appDir, jobEnv, ['node', 'dist/apps/cli/main.js', 'migrate']);
        children.push(job);
        const jobLogs = output(job);
        expect({ code: await exitOf(job, 60_000), logs: jobLogs() }).toEqual({
          code: 0,
          logs: expect.stringMatching(/applied \d+ migration/),
        });
      }

      await bootAndStop(rt, env, port);

      // Nothing written by uid 1000 outside the sandbox's /tmp.
      const stray = strayFiles(['/tmp', '/var/tmp', '/dev/shm', p.build, rt.appDir, p.secrets]).filter(
        (f) => !f.startsWith(p.tmp),
      );
      expect(stray).toEqual([]);
    },
    90_000,
  );

  // deploy.sh creates atp-oidc-secret as {} when no --oidc-config is given (OIDC not used).
  it.each(images.map((img, i) => ({ ...img, stage: dockerfiles[i][1] })))(
    '$app: starts with the secrets deploy.sh creates by default (OIDC file {})',
    async ({ app, yaml, stage }) => {
      const { rt, env, port } = await prepare(app, yaml, stage, '{}', 'defaults');
      await bootAndStop(rt, env, port);
    },
    60_000,
  );
});
