import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { gatewayEnvSchema, loadConfig, routerEnvSchema } from '@app/config';
import { REPO_ROOT } from './fake-cloud';

// The Cloud Run service YAMLs against the seed (names, numbers), Cloud Run's rules (where each
// setting is read) and the apps (probe paths they serve, env vars their schemas accept).

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: number };
  initialDelaySeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  ports: { name?: string; containerPort: number }[];
  resources: { limits: Record<string, string>; requests?: unknown };
  env: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  [field: string]: unknown;
}
interface ServiceDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, unknown> };
  spec: {
    template: {
      metadata: { annotations: Record<string, unknown> };
      spec: {
        serviceAccountName: string;
        containerConcurrency: number;
        timeoutSeconds: number;
        containers: Container[];
        volumes?: { name: string; secret: { secretName: string; items: { key: string; path: string }[] } }[];
      };
    };
  };
}

const SEED_SECRETS = [
  'atp-database-secret',
  'atp-redis-secret',
  'atp-auth-secret',
  'atp-oidc-secret',
  'atp-provider-secrets',
  'atp-encryption-secret',
];

/** Revision-level annotations Cloud Run reads (on spec.template.metadata). */
const REVISION_ANNOTATIONS = new Set([
  'autoscaling.knative.dev/minScale',
  'autoscaling.knative.dev/maxScale',
  'run.googleapis.com/cpu-throttling',
  'run.googleapis.com/execution-environment',
  'run.googleapis.com/startup-cpu-boost',
  'run.googleapis.com/vpc-access-connector',
  'run.googleapis.com/vpc-access-egress',
  'run.googleapis.com/cloudsql-instances',
]);
const SERVICE_ANNOTATIONS = new Set(['run.googleapis.com/ingress', 'run.googleapis.com/launch-stage']);

const cases = [
  {
    file: 'router-service.yaml',
    app: 'router' as const,
    schema: routerEnvSchema,
    dockerfile: 'router-service.Dockerfile',
    name: 'atp-router-service',
    image: 'atp-router',
    sa: 'atp-router',
    port: 8080,
    cpu: '2',
    memory: '4Gi',
    minScale: '1',
    maxScale: '1000',
    concurrency: 1000,
    envSecrets: {
      DATABASE_URL: 'atp-database-secret',
      REDIS_URL: 'atp-redis-secret',
      JWT_SECRET_KEY: 'atp-auth-secret',
      ENCRYPTION_KEY: 'atp-encryption-secret',
    },
    fileSecrets: { OIDC_CONFIG_FILE: 'atp-oidc-secret', PROVIDER_KEYS_FILE: 'atp-provider-secrets' },
  },
  {
    file: 'memory-gateway.yaml',
    app: 'memory-gateway' as const,
    schema: gatewayEnvSchema,
    dockerfile: 'memory-gateway.Dockerfile',
    name: 'atp-memory-gateway',
    image: 'atp-memory-gateway',
    sa: 'atp-memory-gateway',
    port: 8000,
    cpu: '1',
    memory: '2Gi',
    minScale: '1',
    maxScale: '500',
    concurrency: 500,
    envSecrets: {
      DATABASE_URL: 'atp-database-secret',
      REDIS_URL: 'atp-redis-secret',
      JWT_SECRET_KEY: 'atp-auth-secret',
      ENCRYPTION_KEY: 'atp-encryption-secret',
    },
    fileSecrets: { OIDC_CONFIG_FILE: 'atp-oidc-secret' },
  },
];

const load = (file: string) =>
  parse(readFileSync(join(REPO_ROOT, 'deploy', 'cloud-run', file), 'utf8')) as ServiceDoc;

/** Paths the shared health controller serves (read from its source, so a renamed route fails here). */
function servedHealthPaths(): string[] {
  const src = readFileSync(join(REPO_ROOT, 'libs', 'health', 'src', 'health.controller.ts'), 'utf8');
  return [...src.matchAll(/@Get\('([^']+)'\)/g)].map((m) => `/${m[1]}`);
}

/** ENV lines of the Dockerfile's runtime stage (the image's defaults under the YAML's env). */
function dockerfileEnv(dockerfile: string): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'deploy', 'docker', dockerfile), 'utf8').replace(/\\\n\s*/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
  }
  return env;
}

describe.each(cases)('$file', (c) => {
  const doc = load(c.file);
  const tpl = doc.spec.template;
  const container = tpl.spec.containers[0];

  it('is a Cloud Run (Knative serving v1) service with the seed name', () => {
    expect(doc.apiVersion).toBe('serving.knative.dev/v1');
    expect(doc.kind).toBe('Service');
    expect(doc.metadata.name).toBe(c.name);
    expect(tpl.spec.containers).toHaveLength(1);
  });

  it('puts only service-wide settings on the service, every revision setting on the template', () => {
    expect(Object.keys(doc.metadata.annotations).every((k) => SERVICE_ANNOTATIONS.has(k))).toBe(true);
    expect(doc.metadata.annotations['run.googleapis.com/ingress']).toBe('all');
    // readinessProbe is a Preview field: Cloud Run rejects it without the BETA launch stage.
    expect(doc.metadata.annotations['run.googleapis.com/launch-stage']).toBe('BETA');
    const ann = tpl.metadata.annotations;
    expect(new Set(Object.keys(ann))).toEqual(REVISION_ANNOTATIONS);
    for (const v of Object.values(ann)) expect(typeof v).toBe('string');
    expect(ann).toEqual({
      'autoscaling.knative.dev/minScale': c.minScale,
      'autoscaling.knative.dev/maxScale': c.maxScale,
      'run.googleapis.com/cpu-throttling': 'false',
      'run.googleapis.com/execution-environment': 'gen2',
      'run.googleapis.com/startup-cpu-boost': 'true',
      'run.googleapis.com/vpc-access-connector':
        'projects/${PROJECT_ID}/locations/${REGION}/connectors/atp-connector',
      'run.googleapis.com/vpc-access-egress': 'private-ranges-only',
      'run.googleapis.com/cloudsql-instances': '${PROJECT_ID}:${SQL_REGION}:atp-postgres',
    });
    // Knative's target annotation does nothing on Cloud Run (the README explains the 80 % instead).
    expect(JSON.stringify(doc)).not.toContain('autoscaling.knative.dev/target');
  });

  it('sets resources, concurrency, timeout and identity as fields, with the seed numbers', () => {
    expect(container.resources.limits).toEqual({ cpu: c.cpu, memory: c.memory });
    expect(container.resources.requests).toBeUndefined();
    expect(tpl.spec.containerConcurrency).toBe(c.concurrency);
    expect(tpl.spec.timeoutSeconds).toBe(300);
    expect(tpl.spec.serviceAccountName).toBe(`${c.sa}@\${PROJECT_ID}.iam.gserviceaccount.com`);
    expect(container.ports).toEqual([{ name: 'http1', containerPort: c.port }]);
    // Cloud Run ignores or rejects these Kubernetes fields; the image provides non-root and read-only.
    expect(container.securityContext).toBeUndefined();
  });

  it('runs an Artifact Registry image pinned to the commit tag', () => {
    expect(container.image).toBe(
      `\${REGISTRY_REGION}-docker.pkg.dev/\${PROJECT_ID}/\${REPOSITORY}/${c.image}:\${IMAGE_TAG}`,
    );
    expect(container.image).not.toMatch(/gcr\.io|:latest/);
  });

  it('probes paths the app serves: startup and liveness on /health, readiness on /ready', () => {
    const served = servedHealthPaths();
    expect(served).toEqual(expect.arrayContaining(['/health', '/ready']));
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: c.port });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: c.port });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: c.port });
    for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect(served).toContain(p.httpGet.path);
    }
    // Cloud Run's limits for readiness probes.
    expect(container.readinessProbe.initialDelaySeconds).toBeUndefined();
    expect(container.readinessProbe.failureThreshold).toBeLessThanOrEqual(3);
  });

  it('names only env vars the app schema accepts, never PORT', () => {
    const accepted = new Set(Object.keys(c.schema.shape));
    const names = container.env.map((e) => e.name);
    expect(names.filter((n) => !accepted.has(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain('PORT');
    for (const n of Object.keys(dockerfileEnv(c.dockerfile))) expect(accepted.has(n)).toBe(true);
  });

  it('takes one value per secret as env, pinned to a version placeholder', () => {
    const fromSecrets = Object.fromEntries(
      container.env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom!.secretKeyRef.name]),
    );
    expect(fromSecrets).toEqual(c.envSecrets);
    for (const e of container.env.filter((x) => x.valueFrom)) {
      const placeholder = `\${${e.valueFrom!.secretKeyRef.name.toUpperCase().replace(/-/g, '_')}_VERSION}`;
      expect(e.valueFrom!.secretKeyRef.key).toBe(placeholder);
    }
  });

  it('mounts the JSON secrets as files at the paths the env vars name', () => {
    const volumes = tpl.spec.volumes ?? [];
    const mounts = container.volumeMounts ?? [];
    const files: Record<string, string> = {};
    for (const v of volumes) {
      const mount = mounts.find((m) => m.name === v.name);
      expect(mount).toBeDefined();
      expect(v.secret.items).toHaveLength(1);
      expect(v.secret.items[0].key).toBe(
        `\${${v.secret.secretName.toUpperCase().replace(/-/g, '_')}_VERSION}`,
      );
      const path = `${mount!.mountPath}/${v.secret.items[0].path}`;
      const envVar = container.env.find((e) => e.value === path);
      expect(envVar).toBeDefined();
      files[envVar!.name] = v.secret.secretName;
    }
    expect(files).toEqual(c.fileSecrets);
    // Each secret volume needs a directory of its own.
    expect(new Set(mounts.map((m) => m.mountPath)).size).toBe(mounts.length);
  });

  it("starts in production with this env plus the image's (the config loader accepts it)", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atp-yaml-'));
    try {
      const env: Record<string, string> = { ...dockerfileEnv(c.dockerfile), ATP_DATA_DIR: dataDir };
      const values: Record<string, string> = {
        DATABASE_URL: 'postgres://atp:0123456789abcdef@10.1.2.3:5432/atp',
        REDIS_URL: 'redis://:auth@10.20.30.40:6379',
        JWT_SECRET_KEY: 'x'.repeat(64),
        ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      };
      for (const e of container.env) env[e.name] = e.value ?? values[e.name];
      expect(env.NODE_ENV).toBe('production');
      const config = loadConfig(c.app, env);
      expect(config.production).toBe(true);
      expect(config.database.type).toBe('postgres');
      expect(config.redis).not.toBeNull();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('both services together', () => {
  it('use all six secrets of the seed and no other', () => {
    const used = new Set<string>();
    for (const c of cases) {
      const doc = load(c.file);
      const tpl = doc.spec.template;
      for (const e of tpl.spec.containers[0].env) if (e.valueFrom) used.add(e.valueFrom.secretKeyRef.name);
      for (const v of tpl.spec.volumes ?? []) used.add(v.secret.secretName);
    }
    expect([...used].sort()).toEqual([...SEED_SECRETS].sort());
  });

  it('cover the seed env vars each app reads (directly, or inside a mounted JSON file)', () => {
    const router = load('router-service.yaml').spec.template.spec.containers[0].env.map((e) => e.name);
    const gateway = load('memory-gateway.yaml').spec.template.spec.containers[0].env.map((e) => e.name);
    expect(router).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET_KEY']));
    // OIDC_CLIENT_ID/OIDC_CLIENT_SECRET come from atp-oidc-secret; provider keys from atp-provider-secrets.
    expect(router).toEqual(expect.arrayContaining(['OIDC_CONFIG_FILE', 'PROVIDER_KEYS_FILE']));
    expect(gateway).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'REDIS_URL',
        'ENCRYPTION_KEY',
        'PII_DETECTION_ENABLED',
        'AUDIT_LOG_ENABLED',
      ]),
    );
  });

  it('the apps accept the Cloud SQL unix-socket DATABASE_URL that deploy.sh stores', () => {
    const url = 'postgres://atp:0123456789abcdef@/atp?host=/cloudsql/proj:us-central1:atp-postgres';
    const dataDir = mkdtempSync(join(tmpdir(), 'atp-yaml-'));
    try {
      const config = loadConfig('memory-gateway', {
        NODE_ENV: 'production',
        ATP_DATA_DIR: dataDir,
        DATABASE_URL: url,
        REDIS_URL: 'redis://10.0.0.1:6379',
        JWT_SECRET_KEY: 'x'.repeat(64),
        ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      });
      expect(config.database).toEqual({ type: 'postgres', url });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
