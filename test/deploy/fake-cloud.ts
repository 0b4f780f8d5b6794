import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DEPLOY_SCRIPT = join(REPO_ROOT, 'deploy', 'cloud-run', 'deploy.sh');

/** One recorded invocation of the fake `gcloud` or `docker`. */
export interface Call {
  tool: 'gcloud' | 'docker';
  args: string[];
  /** What the script piped in (secret payloads: `--data-file=-`). */
  stdin?: string;
}

/**
 * The fake `gcloud`: records every call, keeps the project's resources in a JSON state file and
 * answers `describe`/`list`/`get-iam-policy` from it. A `create` of something that exists fails
 * with ALREADY_EXISTS, as the real one does, so an unguarded create cannot go unnoticed.
 * FAKE_FAIL_ON (a regular expression over the joined arguments) makes matching calls fail.
 */
const FAKE_GCLOUD = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('fs');
const path = require('path');
const dir = process.env.FAKE_CLOUD_DIR;
const args = process.argv.slice(2);
const wantsStdin = args.includes('--data-file=-');
const stdin = wantsStdin ? fs.readFileSync(0, 'utf8') : undefined;
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ tool: 'gcloud', args, stdin }) + '\n');

const stateFile = path.join(dir, 'state.json');
const state = fs.existsSync(stateFile)
  ? JSON.parse(fs.readFileSync(stateFile, 'utf8'))
  : { keys: [], secrets: {} };
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
const has = (k) => state.keys.includes(k);
const add = (k) => { if (!has(k)) state.keys.push(k); save(); };
const remove = (k) => { state.keys = state.keys.filter((x) => x !== k); save(); };
const fail = (msg) => { process.stderr.write('ERROR: (gcloud) ' + msg + '\n'); process.exit(1); };
const out = (s) => process.stdout.write(s + '\n');

const joined = args.join(' ');
if (process.env.FAKE_FAIL_ON && new RegExp(process.env.FAKE_FAIL_ON).test(joined)) fail('injected failure: ' + joined);

const flag = (name) => {
  const a = args.find((x) => x.startsWith('--' + name + '='));
  return a === undefined ? undefined : a.slice(name.length + 3);
};
const VERBS = new Set(['describe', 'create', 'list', 'enable', 'get-iam-policy', 'add-iam-policy-binding', 'replace',
  'deploy', 'execute', 'delete', 'patch', 'update', 'add', 'access', 'set-password', 'get-auth-string', 'submit',
  'configure-docker', 'add-backend', 'add-path-matcher', 'list-configs']);
const positional = args.filter((a) => !a.startsWith('-') && a !== 'alpha' && a !== 'beta');
const verbAt = positional.findIndex((p) => VERBS.has(p));
if (verbAt < 0) fail('fake gcloud does not know: ' + joined);
const group = positional.slice(0, verbAt).join(' ');
const verb = positional[verbAt];
const name = positional[verbAt + 1];
const regional = /^(run |redis |compute networks vpc-access connectors|compute network-endpoint-groups)/.test(group);
const scope = [flag('instance') && 'instance=' + flag('instance'), flag('secret') && 'secret=' + flag('secret'),
  flag('location') && 'location=' + flag('location'), regional && flag('region') && 'region=' + flag('region')]
  .filter(Boolean).join(' ');
// Service accounts are created by short name and described/deleted by e-mail.
const key = (n) => [group, group === 'iam service-accounts' && n ? n.split('@')[0] : n, scope].filter(Boolean).join(' ');
const format = flag('format') || '';
const displayNameFilter = () => { const m = /displayName="([^"]*)"/.exec(flag('filter') || ''); return m && m[1]; };
const iamFilter = () => {
  const m = /bindings\.role=(\S+) AND bindings\.members=(\S+)/.exec(flag('filter') || '');
  return m ? { role: m[1], member: m[2] } : undefined;
};
const fileDisplayName = (f) => JSON.parse(fs.readFileSync(f, 'utf8')).displayName;

switch (verb) {
  case 'list':
    if (group === 'auth') { out('tester@example.com'); break; }
    if (group === 'services') { state.keys.filter((k) => k.startsWith('api ')).forEach((k) => out(k.slice(4))); break; }
    {
      const d = displayNameFilter();
      if (d === null || d === undefined) fail('list without a displayName filter: ' + joined);
      if (has(group + ' ' + d)) out('projects/fake/' + group.replace(/ /g, '/') + '/' + d.replace(/\W+/g, '-'));
    }
    break;
  case 'list-configs': {
    const d = displayNameFilter();
    if (has('monitoring uptime ' + d)) out('projects/fake/uptimeCheckConfigs/' + d.replace(/\W+/g, '-'));
    break;
  }
  case 'enable':
    positional.slice(verbAt + 1).forEach((api) => add('api ' + api));
    break;
  case 'get-iam-policy': {
    const f = iamFilter();
    if (!f) fail('get-iam-policy without a role/member filter');
    if (has('iam ' + key(name) + ' ' + f.role + ' ' + f.member)) out(f.role);
    break;
  }
  case 'add-iam-policy-binding':
    add('iam ' + key(name) + ' ' + flag('role') + ' ' + flag('member'));
    break;
  case 'describe': {
    if (group === 'projects' || group === 'billing projects') {
      if (format.includes('billingAccountName')) out('billingAccounts/AAAAAA-BBBBBB-CCCCCC');
      break;
    }
    if (group === 'secrets versions') {
      const s = flag('secret');
      const versions = state.secrets[s] || [];
      if (!versions.length) fail('NOT_FOUND: secret ' + s);
      out('projects/123/secrets/' + s + '/versions/' + versions.length);
      break;
    }
    const k = group === 'artifacts docker images' ? 'image ' + name : key(name);
    if (!has(k)) fail('NOT_FOUND: ' + k);
    if (format.includes('value(host)')) out('10.20.30.40');
    else if (format.includes('value(port)')) out('6379');
    else if (format.includes('status.url')) out(process.env.FAKE_SERVICE_URL || 'http://127.0.0.1:9');
    else if (format.includes('value(address)')) out('203.0.113.7');
    break;
  }
  case 'create': {
    let k = key(name);
    if (group === 'monitoring policies') k = group + ' ' + fileDisplayName(flag('policy-from-file'));
    if (group === 'monitoring dashboards') k = group + ' ' + fileDisplayName(flag('config-from-file'));
    if (group === 'monitoring uptime') k = 'monitoring uptime ' + name;
    if (group === 'billing budgets') k = group + ' ' + flag('display-name');
    if (has(k)) fail('ALREADY_EXISTS: ' + k);
    add(k);
    if (group === 'secrets') { state.secrets[name] = [stdin]; save(); }
    break;
  }
  case 'add':
    if (group === 'secrets versions') {
      if (!state.secrets[name]) fail('NOT_FOUND: secret ' + name);
      state.secrets[name].push(stdin);
      save();
    }
    break;
  case 'access':
    if (group === 'secrets versions') {
      const v = state.secrets[flag('secret')] || [];
      if (!v.length) fail('NOT_FOUND');
      process.stdout.write(v[v.length - 1]);
    }
    break;
  case 'get-auth-string':
    out('fake-redis-auth');
    break;
  case 'replace': {
    const text = fs.readFileSync(name, 'utf8');
    const m = /^metadata:\n(?:  .*\n)*?  name: (\S+)/m.exec(text);
    if (!m) fail('no metadata.name in ' + name);
    add('run services ' + m[1] + ' region=' + flag('region'));
    fs.mkdirSync(path.join(dir, 'rendered'), { recursive: true });
    fs.copyFileSync(name, path.join(dir, 'rendered', m[1] + '.' + flag('region') + '.yaml'));
    break;
  }
  case 'deploy':
    add(key(name));
    break;
  case 'submit': {
    const m = /_IMAGE=([^,]+)/.exec(flag('substitutions') || '');
    if (m) add('image ' + m[1]);
    break;
  }
  case 'delete':
    remove(key(name));
    break;
  default:
    break;
}
`;

const FAKE_DOCKER = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('fs');
const path = require('path');
const dir = process.env.FAKE_CLOUD_DIR;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ tool: 'docker', args }) + '\n');
if (process.env.FAKE_FAIL_ON && new RegExp(process.env.FAKE_FAIL_ON).test('docker ' + args.join(' '))) {
  process.stderr.write('docker: injected failure\n');
  process.exit(1);
}
if (args[0] === 'push') {
  const stateFile = path.join(dir, 'state.json');
  const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { keys: [], secrets: {} };
  state.keys.push('image ' + args[1]);
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
}
`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface FakeCloud {
  dir: string;
  /** Calls recorded since the last {@link FakeCloud.clearCalls}. */
  calls(): Call[];
  clearCalls(): void;
  /** Resource keys the fake project holds. */
  keys(): string[];
  secretValues(name: string): string[];
  rendered(service: string, region: string): string;
  run(
    args: string[],
    opts?: { env?: Record<string, string>; input?: string; timeoutMs?: number },
  ): Promise<RunResult>;
  cleanup(): void;
}

/** A fake Google Cloud project: `gcloud` and `docker` first on PATH, state in a temp dir. */
export function createFakeCloud(serviceUrl: string): FakeCloud {
  const dir = mkdtempSync(join(tmpdir(), 'atp-fake-cloud-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'gcloud'), FAKE_GCLOUD);
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(join(bin, 'gcloud'), 0o755);
  chmodSync(join(bin, 'docker'), 0o755);
  const callsFile = join(dir, 'calls.jsonl');
  const stateFile = join(dir, 'state.json');
  const state = () =>
    existsSync(stateFile)
      ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { keys: string[]; secrets: Record<string, string[]> })
      : { keys: [], secrets: {} };

  return {
    dir,
    calls: () =>
      existsSync(callsFile)
        ? readFileSync(callsFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Call)
        : [],
    clearCalls: () => rmSync(callsFile, { force: true }),
    keys: () => state().keys,
    secretValues: (name) => state().secrets[name] ?? [],
    rendered: (service, region) => readFileSync(join(dir, 'rendered', `${service}.${region}.yaml`), 'utf8'),
    run(args, opts = {}) {
      return new Promise((resolvePromise, reject) => {
        const child = spawn('bash', [DEPLOY_SCRIPT, ...args], {
          cwd: REPO_ROOT,
          env: {
            PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
            HOME: dir,
            FAKE_CLOUD_DIR: dir,
            FAKE_SERVICE_URL: serviceUrl,
            ATP_DEPLOY_HEALTH_ATTEMPTS: '3',
            ATP_DEPLOY_HEALTH_INTERVAL: '0',
            ...opts.env,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolvePromise({ code, stdout, stderr });
        });
        child.stdin.end(opts.input ?? '');
      });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Gcloud calls that create or grant something (what a second run must not do). */
export function isCreate(call: Call): boolean {
  const a = call.args.filter((x) => !x.startsWith('-'));
  if (call.tool !== 'gcloud') return false;
  return (
    a.includes('create') ||
    a.includes('enable') ||
    a.includes('add-iam-policy-binding') ||
    a.includes('set-password') ||
    a.includes('add-backend') ||
    a.includes('add-path-matcher') ||
    (a[0] === 'secrets' && a[1] === 'versions' && a[2] === 'add')
  );
}

/** `gcloud sql instances create atp-postgres …` → "sql instances create atp-postgres". */
export function describeCall(call: Call): string {
  return [call.tool === 'docker' ? 'docker' : '', ...call.args.filter((x) => !x.startsWith('-'))]
    .filter(Boolean)
    .join(' ');
}
