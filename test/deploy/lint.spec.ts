import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './fake-cloud';

// shellcheck and yamllint over every script and YAML of the deploy tree. CI installs both
// (apt-get install shellcheck yamllint); with ATP_REQUIRE_SERVICES=1 a missing tool fails.

function walk(dir: string, match: (f: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p, match);
    return match(p) ? [p] : [];
  });
}

const deployDir = join(REPO_ROOT, 'deploy');
const SHELL_FILES = walk(deployDir, (f) => f.endsWith('.sh') || f.endsWith('.env')).map((f) =>
  relative(REPO_ROOT, f),
);
const YAML_FILES = [
  ...walk(deployDir, (f) => /\.ya?ml$/.test(f)),
  join(REPO_ROOT, 'cloudbuild.yaml'),
  ...walk(join(REPO_ROOT, '.github'), (f) => /\.ya?ml$/.test(f)),
].map((f) => relative(REPO_ROOT, f));

function available(tool: string): boolean {
  return spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
}

function lintTest(tool: string, files: string[], args: string[]) {
  const present = available(tool);
  if (!present && process.env.ATP_REQUIRE_SERVICES !== '1') {
    it.skip(`${tool} is not installed (apt-get install ${tool}); skipped because ATP_REQUIRE_SERVICES is not 1`, () => {});
    return;
  }
  it(`${tool} passes on ${files.length} files`, () => {
    if (!present) throw new Error(`${tool} is required (ATP_REQUIRE_SERVICES=1): apt-get install ${tool}`);
    expect(files.length).toBeGreaterThan(0);
    const res = spawnSync(tool, [...args, ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(`${res.stdout}${res.stderr}`.trim()).toBe('');
    expect(res.status).toBe(0);
  });
}

describe('deploy tree lint', () => {
  it('finds the scripts and YAML it is meant to check', () => {
    expect(SHELL_FILES).toEqual(expect.arrayContaining(['deploy/cloud-run/deploy.sh']));
    expect(YAML_FILES).toEqual(
      expect.arrayContaining([
        'deploy/cloud-run/router-service.yaml',
        'deploy/cloud-run/memory-gateway.yaml',
        'cloudbuild.yaml',
        '.github/workflows/deploy.yml',
      ]),
    );
  });

  lintTest('shellcheck', SHELL_FILES, ['--shell=bash', '--severity=style']);
  lintTest('yamllint', YAML_FILES, ['--strict', '-c', 'deploy/yamllint.yaml']);
});
