import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SCRIPT = join(__dirname, 'build-if-stale.mjs');

/** `fn(root)` of the real script, run by node (the script is ESM; jest runs CommonJS). */
function call(fn: 'buildIfStale', root: string): string[] {
  const code = `import { ${fn} } from ${JSON.stringify(SCRIPT)}; console.log(JSON.stringify(${fn}({ root: ${JSON.stringify(root)}, log() {} })));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code]).toString());
}
const staleApps = (root: string) =>
  JSON.parse(
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import { staleApps } from ${JSON.stringify(SCRIPT)}; console.log(JSON.stringify(staleApps(${JSON.stringify(root)})));`,
    ]).toString(),
  ) as string[];

const consoleStale = (root: string) =>
  JSON.parse(
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import { consoleStale } from ${JSON.stringify(SCRIPT)}; console.log(JSON.stringify(consoleStale(${JSON.stringify(root)})));`,
    ]).toString(),
  ) as boolean;

describe('scripts/build-if-stale.mjs: which apps npm start and the test setup rebuild', () => {
  let root: string;
  const T0 = new Date('2026-01-01T00:00:00Z');
  const later = (s: number) => new Date(T0.getTime() + s * 1000);

  function file(path: string, at: Date): void {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, '');
    utimesSync(full, at, at);
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'atp-stale-'));
    for (const app of ['router', 'memory-gateway', 'cli']) file(`apps/${app}/src/main.ts`, T0);
    file('libs/providers/src/index.ts', T0);
    file('package.json', T0);
    for (const app of ['router', 'memory-gateway', 'cli']) file(`dist/apps/${app}/main.js`, later(10));
    file('apps/router/console-ui/src/main.ts', T0);
    file('dist/apps/router/console/index.html', later(10));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('nothing when every bundle is newer than its sources', () => {
    expect(staleApps(root)).toEqual([]);
  });

  it('a missing bundle, or a source of that app changed since: only that app', () => {
    rmSync(join(root, 'dist/apps/cli/main.js'));
    file('apps/router/src/routing/catalog.ts', later(20));
    expect(staleApps(root)).toEqual(['router', 'cli']);
  });

  it('JSON data files count; tests, specs and node_modules do not', () => {
    file('apps/router/test/x.e2e-spec.ts', later(20));
    file('apps/router/src/x.spec.ts', later(20));
    file('libs/providers/node_modules/p/index.ts', later(20));
    expect(staleApps(root)).toEqual([]);
    file('apps/memory-gateway/src/data.json', later(20));
    expect(staleApps(root)).toEqual(['memory-gateway']);
  });

  it('an app whose bundle webpack left unchanged (identical output is not rewritten) is not stale again', () => {
    // A stand-in `nest build` that succeeds without writing, as webpack does for an identical bundle.
    file('node_modules/.bin/nest', T0);
    writeFileSync(join(root, 'node_modules/.bin/nest'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(root, 'node_modules/.bin/nest'), 0o755);
    file('libs/providers/src/index.ts', later(20));
    expect(call('buildIfStale', root)).toEqual(['router', 'memory-gateway', 'cli']);
    expect(staleApps(root)).toEqual([]);
  });

  it('the console is rebuilt when its assets are missing (a router build empties its folder) or any console-ui file changed', () => {
    expect(consoleStale(root)).toBe(false);
    file('apps/router/console-ui/src/style.css', later(20));
    expect(consoleStale(root)).toBe(true);
    file('apps/router/console-ui/src/style.css', T0);
    expect(consoleStale(root)).toBe(false);
    rmSync(join(root, 'dist/apps/router/console/index.html'));
    expect(consoleStale(root)).toBe(true);
  });

  it('a change in libs/ or a shared config file rebuilds every app', () => {
    file('libs/providers/src/mock/mock.mapper.ts', later(20));
    expect(staleApps(root)).toEqual(['router', 'memory-gateway', 'cli']);
    file('libs/providers/src/mock/mock.mapper.ts', T0);
    file('tsconfig.json', later(20));
    expect(staleApps(root)).toEqual(['router', 'memory-gateway', 'cli']);
  });
});
