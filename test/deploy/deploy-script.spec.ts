import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { createFakeCloud, describeCall, isCreate, type Call, type FakeCloud } from './fake-cloud';

// deploy/cloud-run/deploy.sh against a fake Google Cloud: `gcloud` and `docker` first on PATH
// record their arguments and answer describe/list from a state file (see fake-cloud.ts).

const PROJECT = 'atp-test-proj';
const TAG = '3f2c9a1b7d4e';

let health: Server;
let healthUrl: string;
let healthHits = 0;
const clouds: FakeCloud[] = [];

beforeAll(async () => {
  health = createServer((req, res) => {
    healthHits += 1;
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/health' ? '{"status":"ok"}' : '{}');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clouds) c.cleanup();
  await new Promise((r) => health.close(r));
});

function fakeCloud(): FakeCloud {
  const c = createFakeCloud(healthUrl);
  clouds.push(c);
  return c;
}

const flagValue = (call: Call, name: string) =>
  call.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** Index of the first call whose positional words start with `words`. */
function indexOf(calls: Call[], words: string): number {
  const i = calls.findIndex((c) => describeCall(c).startsWith(words));
  if (i < 0) throw new Error(`no call "${words}" in:\n${calls.map(describeCall).join('\n')}`);
  return i;
}

const SECRETS = [
  'atp-database-secret',
  'atp-redis-secret',
  'atp-auth-secret',
  'atp-oidc-secret',
  'atp-provider-secrets',
  'atp-encryption-secret',
];

describe('deploy.sh', () => {
  jest.setTimeout(240_000);

  it('a first run creates everything, in dependency order, then a second run creates nothing', async () => {
    const cloud = fakeCloud();
    const first = await cloud.run([
      '--project',
      PROJECT,
      '--region',
      'us-central1',
      '--image-tag',
      TAG,
      '--with-load-balancer',
      'atp.example.com',
    ]);
    expect(first.stderr).toContain('==> done');
    expect(first.code).toBe(0);
    const calls = cloud.calls();
    const order = [
      'gcloud services enable',
      'gcloud iam service-accounts create atp-router',
      'gcloud compute networks vpc-access connectors create atp-connector',
      'gcloud artifacts repositories create atp',
      'gcloud redis instances create atp-redis',
      'gcloud sql instances create atp-postgres',
      'gcloud sql databases create atp',
      'gcloud sql users create atp',
      'gcloud secrets create atp-database-secret',
      'gcloud secrets create atp-encryption-secret',
      'gcloud secrets add-iam-policy-binding atp-database-secret',
      'gcloud secrets versions describe latest',
      'gcloud builds submit',
      'gcloud run jobs deploy atp-migrate',
      'gcloud run jobs execute atp-migrate',
      'gcloud run services replace',
      'gcloud run services describe atp-router-service',
      'gcloud alpha monitoring policies create',
      'gcloud monitoring uptime create',
      'gcloud monitoring dashboards create',
      'gcloud billing budgets create',
      'gcloud compute addresses create atp-lb-ip',
      'gcloud compute forwarding-rules create atp-https-rule',
    ].map((w) => w.replace(/^gcloud /, ''));
    const positions = order.map((w) => indexOf(calls, w));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));

    // Every resource of the seed exists in the fake project.
    const keys = cloud.keys();
    for (const k of [
      'sql instances atp-postgres',
      'sql databases atp instance=atp-postgres',
      'sql users atp instance=atp-postgres',
      'redis instances atp-redis region=us-central1',
      'compute networks vpc-access connectors atp-connector region=us-central1',
      'artifacts repositories atp location=us-central1',
      'iam service-accounts atp-router',
      'iam service-accounts atp-memory-gateway',
      'iam service-accounts atp-migrate',
      'run services atp-router-service region=us-central1',
      'run services atp-memory-gateway region=us-central1',
      'run jobs atp-migrate region=us-central1',
      `image us-central1-docker.pkg.dev/${PROJECT}/atp/atp-router:${TAG}`,
      `image us-central1-docker.pkg.dev/${PROJECT}/atp/atp-memory-gateway:${TAG}`,
      'compute network-endpoint-groups atp-router-service-neg-us-central1 region=us-central1',
      'compute ssl-certificates atp-cert',
      'compute target-https-proxies atp-https-proxy',
      'compute security-policies atp-armor-policy',
      'compute addresses atp-lb-ip',
      ...SECRETS.map((s) => `secrets ${s}`),
    ]) {
      expect(keys).toContain(k);
    }

    // Cloud SQL: PostgreSQL 14, the seed's tier, backups with point-in-time recovery.
    const sqlCreate = calls[indexOf(calls, 'sql instances create')];
    expect(sqlCreate.args).toEqual(
      expect.arrayContaining([
        '--database-version=POSTGRES_14',
        '--tier=db-custom-2-4096',
        '--enable-point-in-time-recovery',
        '--backup-start-time=03:00',
      ]),
    );
    expect(sqlCreate.args.join(' ')).not.toContain('bin-log');

    // The generated password lives only in the database secret's URL (Cloud SQL socket form).
    const password = flagValue(calls[indexOf(calls, 'sql users create atp')], 'password');
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(cloud.secretValues('atp-database-secret')).toEqual([
      `postgres://atp:${password}@/atp?host=/cloudsql/${PROJECT}:us-central1:atp-postgres`,
    ]);
    expect(first.stdout + first.stderr).not.toContain(password);
    expect(cloud.secretValues('atp-redis-secret')).toEqual(['redis://:fake-redis-auth@10.20.30.40:6379']);
    expect(Buffer.byteLength(cloud.secretValues('atp-auth-secret')[0])).toBeGreaterThanOrEqual(32);
    const [kid, key] = cloud.secretValues('atp-encryption-secret')[0].split(':');
    expect(kid).toMatch(/^k\d{14}$/);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(JSON.parse(cloud.secretValues('atp-oidc-secret')[0])).toEqual({});

    // Least privilege: accessor grants per secret, never project-wide; each account gets only its secrets.
    const grants = calls
      .filter((c) => describeCall(c).startsWith('secrets add-iam-policy-binding'))
      .map((c) => `${c.args[2]} ${flagValue(c, 'member')?.split(':')[1].split('@')[0]}`);
    expect(grants.sort()).toEqual(
      [
        ...['database', 'redis', 'auth', 'oidc'].flatMap((s) => [
          `atp-${s}-secret atp-router`,
          `atp-${s}-secret atp-memory-gateway`,
        ]),
        'atp-provider-secrets atp-router',
        'atp-encryption-secret atp-memory-gateway',
        'atp-encryption-secret atp-router',
        'atp-database-secret atp-migrate',
        'atp-redis-secret atp-migrate',
        'atp-auth-secret atp-migrate',
      ].sort(),
    );
    const projectRoles = calls
      .filter((c) => describeCall(c).startsWith('projects add-iam-policy-binding'))
      .map((c) => flagValue(c, 'role'));
    expect(projectRoles).not.toContain('roles/secretmanager.secretAccessor');
    expect(projectRoles).toEqual(expect.arrayContaining(['roles/cloudsql.client', 'roles/cloudtrace.agent']));

    // The migration job runs the CLI once, on this commit's image.
    const job = calls[indexOf(calls, 'run jobs deploy')];
    expect(flagValue(job, 'image')).toBe(`us-central1-docker.pkg.dev/${PROJECT}/atp/atp-router:${TAG}`);
    expect(flagValue(job, 'args')).toBe('dist/apps/cli/main.js,migrate');
    expect(calls.filter((c) => describeCall(c).startsWith('run jobs execute'))).toHaveLength(1);
    expect(healthHits).toBeGreaterThanOrEqual(2);

    // Second run, same commit: nothing is created, granted or rebuilt; the services are replaced again.
    cloud.clearCalls();
    const second = await cloud.run([
      '--project',
      PROJECT,
      '--region',
      'us-central1',
      '--image-tag',
      TAG,
      '--with-load-balancer',
      'atp.example.com',
    ]);
    expect(second.code).toBe(0);
    const again = cloud.calls();
    expect(again.filter(isCreate).map(describeCall)).toEqual([]);
    expect(again.filter((c) => describeCall(c).startsWith('builds submit'))).toEqual([]);
    expect(again.filter((c) => describeCall(c).startsWith('run services replace'))).toHaveLength(2);
    expect(cloud.secretValues('atp-database-secret')).toHaveLength(1);

    // Third run, a new commit: still nothing created, but new images and a new revision.
    cloud.clearCalls();
    const third = await cloud.run([
      '--project',
      PROJECT,
      '--region',
      'us-central1',
      '--image-tag',
      'b0b0b0b0b0b0',
    ]);
    expect(third.code).toBe(0);
    const next = cloud.calls();
    expect(next.filter(isCreate).map(describeCall)).toEqual([]);
    expect(next.filter((c) => describeCall(c).startsWith('builds submit'))).toHaveLength(2);
    expect(
      parse(cloud.rendered('atp-router-service', 'us-central1')).spec.template.spec.containers[0].image,
    ).toBe(`us-central1-docker.pkg.dev/${PROJECT}/atp/atp-router:b0b0b0b0b0b0`);
  });

  it('--dry-run prints every command and invokes neither gcloud nor docker', async () => {
    const cloud = fakeCloud();
    const res = await cloud.run([
      '--project',
      PROJECT,
      '--regions',
      'us-central1,europe-west1',
      '--image-tag',
      TAG,
      '--builder',
      'docker',
      '--with-load-balancer',
      'atp.example.com',
      '--dry-run',
    ]);
    expect(res.code).toBe(0);
    expect(cloud.calls()).toEqual([]);
    for (const printed of [
      '+ gcloud services enable run.googleapis.com',
      '+ gcloud sql instances create atp-postgres',
      '+ gcloud redis instances create atp-redis',
      '+ gcloud secrets create atp-encryption-secret',
      '+ gcloud sql users create atp --instance=atp-postgres --project=atp-test-proj --password=\\*\\*\\*\\*\\*\\*\\*\\*',
      `+ docker build --file `,
      `+ docker push us-central1-docker.pkg.dev/${PROJECT}/atp/atp-memory-gateway:${TAG}`,
      '+ gcloud run jobs execute atp-migrate',
      '+ gcloud run services replace',
      '--region=europe-west1',
      '+ gcloud compute forwarding-rules create atp-https-rule',
    ]) {
      expect(res.stderr).toContain(printed);
    }
  });

  it('stops at a failing step with a message naming it, and runs nothing after it', async () => {
    const cloud = fakeCloud();
    const res = await cloud.run(['--project', PROJECT, '--image-tag', TAG], {
      env: { FAKE_FAIL_ON: '^redis instances create' },
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("step 'Memorystore (Redis)' failed");
    const calls = cloud.calls().map(describeCall);
    expect(calls).toContain('redis instances create atp-redis');
    expect(calls.some((c) => c.startsWith('sql instances create'))).toBe(false);
    expect(calls.some((c) => c.startsWith('run services replace'))).toBe(false);
  });

  it('fails the deploy when a service never answers /health, naming the step', async () => {
    const cloud = fakeCloud();
    const res = await cloud.run(['--project', PROJECT, '--image-tag', TAG], {
      env: { FAKE_SERVICE_URL: `${healthUrl}/nothing-here` },
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("step 'wait for /health in us-central1' failed");
    expect(res.stderr).toContain('did not answer');
  });

  it('--regions deploys both services to each region; data stores stay in the first', async () => {
    const cloud = fakeCloud();
    const regions = ['us-central1', 'europe-west1', 'asia-southeast1'];
    const res = await cloud.run(['--project', PROJECT, '--regions', regions.join(','), '--image-tag', TAG]);
    expect(res.code).toBe(0);
    const calls = cloud.calls();
    for (const region of regions) {
      for (const svc of ['atp-router-service', 'atp-memory-gateway']) {
        expect(cloud.keys()).toContain(`run services ${svc} region=${region}`);
        const doc = parse(cloud.rendered(svc, region));
        const ann = doc.spec.template.metadata.annotations;
        expect(ann['run.googleapis.com/vpc-access-connector']).toBe(
          `projects/${PROJECT}/locations/${region}/connectors/atp-connector`,
        );
        expect(ann['run.googleapis.com/cloudsql-instances']).toBe(`${PROJECT}:us-central1:atp-postgres`);
      }
    }
    const connectors = calls.filter((c) =>
      describeCall(c).startsWith('compute networks vpc-access connectors create'),
    );
    expect(connectors.map((c) => flagValue(c, 'region'))).toEqual(regions);
    expect(new Set(connectors.map((c) => flagValue(c, 'range'))).size).toBe(3);
    expect(calls.filter((c) => describeCall(c).startsWith('sql instances create'))).toHaveLength(1);
    expect(calls.filter((c) => describeCall(c).startsWith('redis instances create'))).toHaveLength(1);
    expect(calls.filter((c) => describeCall(c).startsWith('run jobs execute'))).toHaveLength(1);
  });

  it('renders service YAML that pins the commit tag and numbered secret versions', async () => {
    const cloud = fakeCloud();
    const res = await cloud.run([
      '--project',
      PROJECT,
      '--region',
      'europe-west1',
      '--image-tag',
      TAG,
      '--builder',
      'docker',
    ]);
    expect(res.code).toBe(0);
    const docker = cloud.calls().filter((c) => c.tool === 'docker');
    expect(docker.map((c) => c.args[0])).toEqual(['build', 'push', 'build', 'push']);
    expect(docker[0].args).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/deploy\/docker\/router-service\.Dockerfile$/),
        `europe-west1-docker.pkg.dev/${PROJECT}/atp/atp-router:${TAG}`,
      ]),
    );
    for (const [svc, image] of [
      ['atp-router-service', 'atp-router'],
      ['atp-memory-gateway', 'atp-memory-gateway'],
    ]) {
      const text = cloud.rendered(svc, 'europe-west1');
      expect(text).not.toContain('${');
      expect(text).not.toMatch(/:latest\b/);
      const doc = parse(text);
      const container = doc.spec.template.spec.containers[0];
      expect(container.image).toBe(`europe-west1-docker.pkg.dev/${PROJECT}/atp/${image}:${TAG}`);
      expect(doc.spec.template.spec.serviceAccountName).toBe(`${image}@${PROJECT}.iam.gserviceaccount.com`);
      const refs = (container.env as { valueFrom?: { secretKeyRef: { key: string } } }[])
        .filter((e) => e.valueFrom)
        .map((e) => e.valueFrom!.secretKeyRef.key);
      expect(refs.length).toBeGreaterThanOrEqual(3);
      for (const v of refs) expect(v).toBe('1');
      for (const vol of doc.spec.template.spec.volumes as { secret: { items: { key: string }[] } }[]) {
        expect(vol.secret.items[0].key).toBe('1');
      }
    }
  });

  it('--rotate-secrets adds versions (keeping old encryption keys) and the next revision pins them', async () => {
    const cloud = fakeCloud();
    expect((await cloud.run(['--project', PROJECT, '--image-tag', TAG])).code).toBe(0);
    cloud.clearCalls();
    const res = await cloud.run(['--project', PROJECT, '--image-tag', TAG, '--rotate-secrets']);
    expect(res.code).toBe(0);
    const [oldRing, newRing] = cloud.secretValues('atp-encryption-secret');
    expect(newRing.split(',')).toHaveLength(2);
    expect(newRing.endsWith(`,${oldRing}`)).toBe(true);
    const [oldUrl, newUrl] = cloud.secretValues('atp-database-secret');
    expect(newUrl).not.toBe(oldUrl);
    const calls = cloud.calls().map(describeCall);
    expect(calls).toContain('sql users set-password atp');
    expect(calls.some((c) => c.startsWith('sql users create'))).toBe(false);
    const doc = parse(cloud.rendered('atp-memory-gateway', 'us-central1'));
    const enc = doc.spec.template.spec.containers[0].env.find(
      (e: { name: string }) => e.name === 'ENCRYPTION_KEY',
    );
    expect(enc.valueFrom.secretKeyRef.key).toBe('2');
    // The JSON secrets are not rewritten without a file to rotate to.
    expect(cloud.secretValues('atp-provider-secrets')).toHaveLength(1);
  });

  it('--skip-infra only pins secret versions, builds, migrates and deploys', async () => {
    const cloud = fakeCloud();
    const bare = await cloud.run(['--project', PROJECT, '--image-tag', TAG, '--skip-infra']);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain("step 'pin secret versions' failed");
    expect(cloud.calls().some((c) => describeCall(c).startsWith('run services replace'))).toBe(false);

    expect((await cloud.run(['--project', PROJECT, '--image-tag', TAG])).code).toBe(0);
    cloud.clearCalls();
    const res = await cloud.run(['--project', PROJECT, '--image-tag', 'c0ffee000000', '--skip-infra']);
    expect(res.code).toBe(0);
    const groups = new Set(cloud.calls().map((c) => describeCall(c).split(' ').slice(0, 2).join(' ')));
    expect([...groups].sort()).toEqual(
      [
        'artifacts docker',
        'auth list',
        'builds submit',
        'projects describe',
        'run jobs',
        'run services',
        'secrets versions',
      ].sort(),
    );
  });

  it('refuses the latest tag and unknown options', async () => {
    const cloud = fakeCloud();
    const latest = await cloud.run(['--project', PROJECT, '--image-tag', 'latest']);
    expect(latest.code).not.toBe(0);
    expect(latest.stderr).toContain("refusing to deploy the 'latest' tag");
    const unknown = await cloud.run(['--project', PROJECT, '--bogus']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown option: --bogus');
    const help = await cloud.run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--with-load-balancer DOMAIN');
    expect(cloud.calls()).toEqual([]);
  });

  it('cleanup asks for the project id and deletes nothing without it', async () => {
    const cloud = fakeCloud();
    expect((await cloud.run(['--project', PROJECT, '--image-tag', TAG])).code).toBe(0);
    cloud.clearCalls();
    const refused = await cloud.run(['cleanup', '--project', PROJECT], { input: 'yes\n' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cleanup cancelled');
    expect(cloud.calls().filter((c) => c.args.includes('delete'))).toEqual([]);

    const confirmed = await cloud.run(['cleanup', '--project', PROJECT], { input: `${PROJECT}\n` });
    expect(confirmed.code).toBe(0);
    const deleted = cloud
      .calls()
      .filter((c) => c.args.includes('delete'))
      .map(describeCall);
    expect(deleted).toEqual(
      expect.arrayContaining([
        'run services delete atp-router-service',
        'sql instances delete atp-postgres',
        'redis instances delete atp-redis',
        'secrets delete atp-database-secret',
      ]),
    );
    // Deletion protection is lifted first, and only for what exists (no load balancer was made).
    expect(cloud.calls().map(describeCall)).toContain('sql instances patch atp-postgres');
    expect(deleted.some((d) => d.includes('forwarding-rules'))).toBe(false);
  });
});
